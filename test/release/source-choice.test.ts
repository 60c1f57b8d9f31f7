// useReleaseSource: a plugin (here, the config's own task) chooses what a
// deploy ships instead of release.source — a local directory with its
// commit, or each host filling the release itself — on h2 and h3.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { events, releaseProject, uploads, type ReleaseProject } from './release-project.js';

let fleet: FleetState;
let chosen: string;
const COMMIT = 'c0ffee'.padEnd(40, '0');

beforeAll(() => {
  fleet = useFleet();
  chosen = mkdtempSync(path.join(tmpdir(), 'deployr-chosen-'));
  mkdirSync(path.join(chosen, 'lib'));
  writeFileSync(path.join(chosen, 'lib', 'app.js'), 'console.log("chosen");\n');
  writeFileSync(path.join(chosen, 'README'), 'from the chosen dir\n');
});
afterAll(() => rmSync(chosen, { recursive: true, force: true }));

function project(source: string): ReleaseProject {
  return releaseProject(fleet, {
    hosts: fleet.hosts.filter((h) => h.name === 'h2' || h.name === 'h3'),
    release: `{ source: 'app' }`,
    extra: `tasks: { 'pick:source': ${source} },
  before: { 'deploy:source': 'pick:source' },`,
  });
}

async function manifest(p: ReleaseProject, host: string): Promise<{ source: Record<string, unknown>; files: Record<string, string> }> {
  const { stdout } = await p.sh(host, 'cat current/.deployr-release.json');
  return JSON.parse(stdout) as { source: Record<string, unknown>; files: Record<string, string> };
}

describe('useReleaseSource', () => {
  it('a local directory is shipped instead of release.source, with its commit in the manifest and status', async () => {
    const p = project(
      `{ local: true, run: (ctx) => useReleaseSource(ctx, { kind: 'local', dir: ${JSON.stringify(chosen)}, git: { commit: ${JSON.stringify(COMMIT)}, ref: 'v1.2', dirty: false }, label: 'the chosen dir' }) }`,
    );
    const first = await p.cli(['deploy', 'fleet', '--json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const logs = events(first.stdout).filter((e) => e['type'] === 'log').map((e) => e['message']);
    expect(logs.find((m) => String(m).startsWith('source '))).toMatch(/^source the chosen dir: 2 files \(\d+ B\), commit c0ffee000000 \(v1\.2\)$/);
    for (const host of ['h2', 'h3']) {
      expect((await p.sh(host, 'cat current/lib/app.js; test -e current/server.js || echo no-server')).stdout).toBe('console.log("chosen");\nno-server\n');
      const m = await manifest(p, host);
      expect(m.source).toEqual({ commit: COMMIT, ref: 'v1.2', dirty: false });
      expect(Object.keys(m.files).sort()).toEqual(['README', 'lib/app.js']);
    }
    const status = await p.cli(['status', 'fleet', '--json']);
    expect(status.stdout).toContain(COMMIT);

    // The chosen dir is shipped incrementally like any source: nothing changed, nothing sent.
    const again = await p.cli(['deploy', 'fleet', '--json']);
    expect(again.code).toBe(0);
    expect([...uploads(again.stdout).values()].map((u) => u.sentFiles)).toEqual([0, 0]);
  });

  it('a host source fills each release on the host; its files are hashed into the manifest', async () => {
    const p = project(
      `{ once: true, run: (ctx) => useReleaseSource(ctx, { kind: 'host', label: 'made on the host', git: { commit: ${JSON.stringify(COMMIT)}, dirty: false },
        fill: async (ctx, release) => { await ctx.host.cd(release.path).exec(cmd\`mkdir -p bin && printf %s \${ctx.target.name} > bin/where && echo \${release.id} > ID\`); } }) }`,
    );
    const result = await p.cli(['deploy', 'fleet', '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const id = await p.current('h2');
    expect(id).not.toBe('');
    for (const host of ['h2', 'h3']) {
      expect((await p.sh(host, 'cat current/bin/where current/ID')).stdout).toBe(`${host}${id}\n`);
      const m = await manifest(p, host);
      expect(m.source).toEqual({ commit: COMMIT, dirty: false });
      const sums = (await p.sh(host, 'cd current && sha256sum bin/where ID')).stdout;
      expect(sums).toBe(`${m.files['bin/where']}  bin/where\n${m.files['ID']}  ID\n`);
      expect(Object.keys(m.files).sort()).toEqual(['ID', 'bin/where']);
    }
    expect(uploads(result.stdout).size).toBe(0); // nothing was uploaded
  });

  it('a host source whose fill fails on one host leaves every host as it was', async () => {
    const p = project(
      `{ once: true, run: (ctx) => useReleaseSource(ctx, { kind: 'host', label: 'flaky', fill: async (ctx, release) => {
        if (process.env.FILL_FAIL && ctx.target.name === 'h3') throw new Error('mirror unreachable from h3');
        await ctx.host.cd(release.path).exec('echo ok > OK');
      } }) }`,
    );
    expect((await p.cli(['deploy', 'fleet'])).code).toBe(0);
    const before = await p.current('h2');
    const failed = await p.cli(['deploy', 'fleet'], { FILL_FAIL: '1' });
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toContain('mirror unreachable from h3');
    for (const host of ['h2', 'h3']) {
      expect(await p.current(host)).toBe(before);
      expect(await p.releases(host)).toEqual([before]);
    }
  });
});

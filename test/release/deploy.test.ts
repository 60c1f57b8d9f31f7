// `deployr deploy` against the fleet: the layout a first deploy leaves, what a
// redeploy sends (one changed file; nothing at all), shared files that
// survive releases, keep-N cleanup, and the previous release left untouched.
import { beforeAll, describe, expect, it } from 'vitest';
import type { FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { releaseProject, uploads, type ReleaseProject } from './release-project.js';

let fleet: FleetState;
let project: ReleaseProject;
let names: string[];
const deploy = (...extra: string[]) => project.cli(['deploy', 'fleet', '--json', ...extra]);

beforeAll(() => {
  fleet = useFleet();
  project = releaseProject(fleet, {
    keepReleases: 3,
    // releaseOf(ctx): what a plugin sees of the release being deployed.
    extra: `hooks: { prepare: async (ctx) => { const r = releaseOf(ctx); await ctx.host.exec(cmd\`echo \${r?.id} \${r?.path} \${r?.previous ?? '-'} \${r?.source?.kind === 'local' ? r.source.dir : '?'} > \${r?.path + '/RELEASE_INFO'}\`); } },`,
  });
  names = project.hosts.map((h) => h.name);
});

describe('deployr deploy', () => {
  let first: string;

  it('first deploy: releases/<id>, current → it, shared dir and file linked, manifest with hashes, ignored files left out, modes kept', async () => {
    const { code, stdout, stderr } = await deploy();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const sent = uploads(stdout);
    expect([...sent.keys()].sort()).toEqual(names);
    for (const name of names) {
      const upload = sent.get(name);
      expect(upload?.base).toBeUndefined();
      // server.js, public/index.html, run.sh, .gitignore; scratch.tmp is gitignored.
      expect(upload?.sentFiles).toBe(4);
      expect(upload?.unchangedFiles).toBe(0);
    }
    const ids = new Set(await Promise.all(names.map((n) => project.current(n))));
    expect(ids.size).toBe(1); // one release id for the whole fleet
    first = [...ids][0] as string;
    expect(first).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{4}$/);
    for (const name of names) {
      const layout = await project.sh(
        name,
        'readlink current; ls -A current/; stat -c %a current/run.sh; readlink current/logs current/.env; test -d shared/logs && test -f shared/.env && echo shared-ok; cat current/BUILT current/RELEASE_INFO',
      );
      expect(layout.stdout.split('\n')).toEqual([
        `releases/${first}`,
        '.deployr-release.json', '.env', '.gitignore', 'BUILT', 'RELEASE_INFO', 'logs', 'public', 'run.sh', 'server.js',
        '755',
        '../../shared/logs', '../../shared/.env',
        'shared-ok',
        first,
        `${first} ${project.deployTo}/releases/${first} - ${project.app}`,
        '',
      ]);
      const manifest = JSON.parse((await project.sh(name, 'cat current/.deployr-release.json')).stdout) as Record<string, unknown>;
      expect(manifest).toMatchObject({ format: 1, id: first, app: 'release-test', environment: 'fleet', host: name, shared: ['logs/', '.env'] });
      const sums = (await project.sh(name, 'cd current && sha256sum server.js public/index.html')).stdout;
      const files = manifest['files'] as Record<string, string>;
      expect(Object.keys(files).sort()).toEqual(['.gitignore', 'public/index.html', 'run.sh', 'server.js']);
      expect(sums).toContain(`${files['server.js']}  server.js`);
      expect(sums).toContain(`${files['public/index.html']}  public/index.html`);
      expect((manifest['deployedBy'] as { user: string }).user).toBeTruthy();
      expect(await project.lock(name)).toBe('');
    }
  });

  it('redeploy with one file changed sends only that file; the rest are hard links to the previous release, which is left as it was', async () => {
    project.write('public/index.html', '<h1>v2</h1>\n');
    const { code, stdout } = await deploy();
    expect(code).toBe(0);
    const second = await project.current(names[0] as string);
    expect(second).not.toBe(first);
    for (const [name, upload] of uploads(stdout)) {
      expect(upload.base, name).toBe(first);
      expect(upload.sentFiles, name).toBe(1);
      expect(upload.sentBytes, name).toBe('<h1>v2</h1>\n'.length);
      expect(upload.unchangedFiles, name).toBe(3);
    }
    for (const name of names) {
      const check = await project.sh(
        name,
        `cat releases/${first}/public/index.html releases/${second}/public/index.html; ` +
          `[ releases/${first}/server.js -ef releases/${second}/server.js ] && echo linked; ` +
          `[ releases/${first}/public/index.html -ef releases/${second}/public/index.html ] || echo separate; cat releases/${first}/BUILT releases/${second}/RELEASE_INFO`,
      );
      expect(check.stdout).toBe(`<h1>v1</h1>\n<h1>v2</h1>\nlinked\nseparate\n${first}\n${second} ${project.deployTo}/releases/${second} ${first} ${project.app}\n`);
    }
  });

  it('a redeploy with nothing changed sends no file content at all', async () => {
    const { code, stdout } = await deploy();
    expect(code).toBe(0);
    const sent = uploads(stdout);
    expect(sent.size).toBe(3);
    for (const [name, upload] of sent) {
      expect(upload.sentFiles, name).toBe(0);
      expect(upload.sentBytes, name).toBe(0);
      expect(upload.unchangedFiles, name).toBe(4);
    }
    // No tar stream at all: no extraction command ran.
    expect(stdout).not.toContain('tar -x');
  });

  it('shared files survive releases; removed, mode-changed and new files arrive right', async () => {
    for (const name of names) await project.sh(name, `echo SECRET=${name} > shared/.env && echo line >> shared/logs/app.log`);
    project.remove('run.sh');
    project.write('server.js', 'console.log("v1");\n', 0o700);
    project.write('lib/util.js', 'export {};\n');
    const { code, stdout } = await deploy();
    expect(code).toBe(0);
    for (const [name, upload] of uploads(stdout)) {
      expect(upload.sentFiles, name).toBe(2); // server.js (mode) and lib/util.js
      expect(upload.removedPaths, name).toBeGreaterThanOrEqual(2); // run.sh, and server.js replaced
    }
    for (const name of names) {
      const check = await project.sh(name, 'cat current/.env current/logs/app.log; ls current; stat -c %a current/server.js');
      expect(check.stdout).toBe(`SECRET=${name}\nline\nBUILT\nRELEASE_INFO\nlib\nlogs\npublic\nserver.js\n700\n`);
    }
  });

  it('--dry-run prints the release commands and changes nothing on any host', async () => {
    const before = await Promise.all(names.map(async (n) => [await project.current(n), (await project.releases(n)).join(','), await project.lock(n)]));
    project.write('public/index.html', '<h1>dry</h1>\n');
    const { code, stdout } = await project.cli(['deploy', 'fleet', '--dry-run']);
    expect(code).toBe(0);
    expect(stdout).toContain('tar -x -p --no-same-owner');
    expect(stdout).toContain('mv -T -f current.deployr-next current');
    // It read each host's real state: exactly the one edited file would be sent, from the current release.
    for (const [name, current] of before.map((b, i) => [names[i], b[0]] as const)) {
      expect(stdout).toMatch(new RegExp(`\\[${name}\\] ℹ release \\S+: from ${current}: would send 1 file \\(\\d+ B\\), \\d+ unchanged`));
    }
    const after = await Promise.all(names.map(async (n) => [await project.current(n), (await project.releases(n)).join(','), await project.lock(n)]));
    expect(after).toEqual(before);
  });

  it('keeps keepReleases releases and removes older ones', async () => {
    project.write('public/index.html', '<h1>v5</h1>\n');
    expect((await deploy()).code).toBe(0);
    for (const name of names) {
      const releases = await project.releases(name);
      expect(releases).toHaveLength(3);
      expect(releases).not.toContain(first);
      expect(releases.at(-1)).toBe(await project.current(name));
    }
  });
});

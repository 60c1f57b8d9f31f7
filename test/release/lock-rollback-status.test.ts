// The deploy lock, rollback and status, against the fleet (h1..h3):
// - two deploys started together: exactly one ships, the other exits 4 naming
//   the holder and what to do (three rounds: never both, never neither);
// - --lock-wait: a deploy waits for the running one, then ships; a wait too
//   short still exits 4;
// - a stale lock on one host stops a deploy before it changes anything;
//   `deployr unlock` removes it and says whose it was;
// - rollback: to the previous release, --to an id, --to one a host lacks
//   (refused, nothing switched), --to garbage (usage error), and incomplete
//   releases never picked;
// - status: one release everywhere, `current` moved by hand on one host, a file
//   edited in place on another, --json, and the lock holder while a deploy runs.
//
// The build waits while `<deployTo>/hold` exists, so a test keeps a deploy
// holding the lock for exactly as long as it needs: no timing guesses.
import { hostname, userInfo } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliProcess, CliResult } from '../cli/run-cli.js';
import type { FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { events, releaseProject, uploads, type ReleaseProject } from './release-project.js';

const HOSTS = ['h1', 'h2', 'h3'] as const;
const RELEASE = `{ source: 'app', build: ['while [ -e ../../hold ]; do sleep 0.1; done', 'echo "$DEPLOYR_RELEASE" > BUILT'] }`;
/** Who the lock file names: the CLI runs as this test's user, on this machine. */
const ME = `${userInfo().username}@${hostname()}`;

let fleet: FleetState;
beforeAll(() => {
  fleet = useFleet();
});

const newProject = (): ReleaseProject => releaseProject(fleet, { release: RELEASE, keepReleases: 10 });

/** Builds wait until letGo(); deployTo must exist (deploy once first). */
async function hold(project: ReleaseProject): Promise<void> {
  for (const host of HOSTS) expect((await project.sh(host, 'test -d releases && touch hold')).code, host).toBe(0);
}

async function letGo(project: ReleaseProject): Promise<void> {
  await Promise.all(HOSTS.map((host) => project.sh(host, 'rm -f hold')));
}

/** Deploys and returns the new release, checking every host is on it. */
async function deploy(project: ReleaseProject, serverJs?: string): Promise<string> {
  if (serverJs !== undefined) project.write('server.js', serverJs);
  const result = await project.cli(['deploy', 'fleet', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const id = releaseIdOf(result.stdout);
  for (const host of HOSTS) expect(await project.current(host), host).toBe(id);
  return id;
}

/** The release a --json deploy made (chosen once it held the lock; not its run id). */
function releaseIdOf(stdout: string): string {
  const ids = new Set([...uploads(stdout).values()].map((upload) => upload.release));
  expect(ids.size).toBe(1);
  return [...ids][0] as string;
}

function runIdOf(stdout: string): string {
  const start = events(stdout).find((event) => event['type'] === 'run:start');
  return String(start?.['runId']);
}

/** The events a background run has printed so far (complete lines only). */
function eventsSoFar(run: CliProcess): Array<Record<string, unknown>> {
  return events(run.stdout().split('\n').slice(0, -1).join('\n'));
}

const buildStarted = (run: CliProcess): boolean => eventsSoFar(run).some((event) => event['type'] === 'task:start' && event['task'] === 'deploy:build');

/** Polls until ready() holds or the time is up; says which. */
async function until(ready: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) return false;
    await delay(50);
  }
  return true;
}

async function waitFor(what: string, run: CliProcess, ready: () => boolean): Promise<void> {
  await until(() => ready() || run.child.exitCode !== null);
  if (!ready()) throw new Error(`waiting for ${what}: ${run.child.exitCode === null ? 'timed out' : `the run exited ${run.child.exitCode}`}\n${run.stdout()}`);
}

interface HostSnapshot {
  current: string;
  releases: string[];
  lock: string;
  /** `ls -A .deployr`: the lock file, and no leftover per-run lock files. */
  meta: string;
}

async function snapshot(project: ReleaseProject): Promise<Record<string, HostSnapshot>> {
  const entries = await Promise.all(
    HOSTS.map(async (host) => {
      const meta = (await project.sh(host, 'ls -A .deployr')).stdout.trim();
      return [host, { current: await project.current(host), releases: await project.releases(host), lock: await project.lock(host), meta }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function expectFree(project: ReleaseProject): Promise<void> {
  for (const [host, state] of Object.entries(await snapshot(project))) {
    expect(state.lock, `lock on ${host}`).toBe('');
    expect(state.meta, `.deployr on ${host}`).toBe('');
  }
}

async function expectEveryHostOn(project: ReleaseProject, id: string, serverJs: string): Promise<void> {
  for (const host of HOSTS) {
    const check = await project.sh(host, 'readlink current && cat current/server.js current/BUILT');
    expect(check.stdout, host).toBe(`releases/${id}\n${serverJs}${id}\n`);
  }
}

describe('the deploy lock', () => {
  let project: ReleaseProject;
  beforeAll(() => {
    project = newProject();
  });

  it('two deploys started together: exactly one ships, the other exits 4 naming the holder (3 rounds)', async () => {
    await deploy(project);
    for (let round = 1; round <= 3; round++) {
      const before = await snapshot(project);
      await hold(project);
      const runs = [project.start(['deploy', 'fleet', '--json']), project.start(['deploy', 'fleet', '--json'])] as const;
      // The winner sits in its build while `hold` exists, so the two surely overlap; wait for
      // the loser to exit (if both got the lock, neither exits: the wait times out, the check below fails).
      await until(() => runs.some((run) => run.child.exitCode !== null));
      await letGo(project);
      const results: CliResult[] = await Promise.all(runs.map((run) => run.result));

      expect(results.map((r) => r.code).sort(), `round ${round}: exit codes\n${results.map((r) => r.stderr).join('\n')}`).toEqual([0, 4]);
      const w = results.findIndex((r) => r.code === 0);
      const winner = runs[w] as CliProcess;
      const loser = results[1 - w] as CliResult;
      const release = releaseIdOf((results[w] as CliResult).stdout);
      expect(loser.stderr).toContain(`fleet is locked on h1 by ${ME} (pid ${winner.child.pid})`);
      expect(loser.stderr).toContain(`running "deploy" (run ${runIdOf((results[w] as CliResult).stdout)})`);
      expect(loser.stderr).toContain('--lock-wait');
      expect(loser.stderr).toContain('deployr unlock fleet');

      const after = await snapshot(project);
      for (const host of HOSTS) {
        const { current, releases } = after[host] as HostSnapshot;
        expect(current, `round ${round}: ${host}`).toBe(release);
        // One new release: the winner's. The loser made none.
        expect(releases, `round ${round}: ${host}`).toEqual([...(before[host] as HostSnapshot).releases, release].sort());
      }
      await expectFree(project);
    }
  }, 180_000);

  it('--lock-wait: a deploy waits for the running one, then ships its own release; a wait that runs out exits 4', async () => {
    await deploy(project);
    await hold(project);
    const first = project.start(['deploy', 'fleet', '--json']);
    await waitFor('the first deploy to build', first, () => buildStarted(first));
    const second = project.start(['deploy', 'fleet', '--json', '--lock-wait', '60']);
    await waitFor('the second deploy to wait', second, () => second.stdout().includes('waiting for the lock'));
    expect(second.stdout()).toContain(`waiting for the lock, held by ${ME} (pid ${first.child.pid})`);

    const impatient = await project.cli(['deploy', 'fleet', '--lock-wait', '1']);
    expect(impatient.code).toBe(4);
    expect(impatient.stderr).toMatch(new RegExp(`fleet is locked on h1 by ${ME} \\(pid ${first.child.pid}\\).*; waited 1s`));

    await letGo(project);
    const [a, b] = await Promise.all([first.result, second.result]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [firstId, secondId] = [releaseIdOf(a.stdout), releaseIdOf(b.stdout)];
    expect(secondId > firstId).toBe(true);
    for (const host of HOSTS) {
      expect(await project.current(host), host).toBe(secondId);
      expect(await project.releases(host), host).toEqual(expect.arrayContaining([firstId, secondId]));
    }
    await expectFree(project);
  }, 120_000);

  it('a stale lock on h2 stops a deploy before it changes any host; unlock removes it and says whose it was', async () => {
    await deploy(project);
    const stale = JSON.stringify({
      user: 'alice',
      machine: 'laptop',
      pid: 4242,
      since: '2026-01-01T00:00:00.000Z',
      runId: '20260101T000000000Z-abcd',
      task: 'deploy',
      environment: 'fleet',
    });
    await project.sh('h2', `printf '%s\\n' '${stale}' > .deployr/lock.json && chown ${fleet.user}:${fleet.user} .deployr/lock.json`);
    const before = await snapshot(project);

    const blocked = await project.cli(['deploy', 'fleet']);
    expect(blocked.code).toBe(4);
    expect(blocked.stderr).toContain('fleet is locked on h2 by alice@laptop (pid 4242)');
    expect(blocked.stderr).toContain('deployr unlock fleet');
    // Nothing changed anywhere: no new release, h1 and h3 not left locked, alice's lock as it was.
    expect(await snapshot(project)).toEqual(before);
    expect(before['h2']?.lock).toBe(stale);
    expect(before['h1']?.lock).toBe('');

    const unlock = await project.cli(['unlock', 'fleet']);
    expect(unlock.code, unlock.stderr).toBe(0);
    expect(unlock.stdout).toMatch(/^\[h2\] .*removed the lock held by alice@laptop \(pid 4242\), since 2026-01-01T00:00:00.000Z, running "deploy"/m);
    expect(unlock.stdout).toMatch(/^\[h1\] .*not locked$/m);
    expect(unlock.stdout).toMatch(/^\[h3\] .*not locked$/m);
    expect(unlock.stdout).not.toMatch(/^\[h2\] .*not locked$/m);
    await expectFree(project);

    const again = await project.cli(['unlock', 'fleet']);
    expect(again.stdout.match(/not locked$/gm)).toHaveLength(3);

    const id = await deploy(project);
    expect(id).not.toBe(before['h1']?.current);
    await expectFree(project);
  }, 120_000);
});

describe('deployr rollback', () => {
  let project: ReleaseProject;
  let r1: string;
  let r2: string;
  let r3: string;
  let r4: string;
  const rollback = (...args: string[]): Promise<CliResult> => project.cli(['rollback', 'fleet', ...args]);

  beforeAll(async () => {
    project = newProject();
    r1 = await deploy(project, 'v1\n');
    r2 = await deploy(project, 'v2\n');
    r3 = await deploy(project, 'v3\n');
  }, 120_000);

  it('goes back to the previous release, then --to an older one, on every host', async () => {
    const back = await rollback();
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`rolling back to ${r2}`);
    await expectEveryHostOn(project, r2, 'v2\n');
    await expectFree(project);

    const to = await rollback('--to', r1);
    expect(to.code, to.stderr).toBe(0);
    await expectEveryHostOn(project, r1, 'v1\n');
    await expectFree(project);
    // Releases are switched to, never removed.
    for (const host of HOSTS) expect(await project.releases(host), host).toEqual([r1, r2, r3]);
  }, 60_000);

  it('--to a release one host lacks is refused, naming the host, and no host switches', async () => {
    await project.sh('h2', `rm -rf releases/${r2}`);
    const refused = await rollback('--to', r2);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`Cannot roll back to ${r2}: it is missing or incomplete on h2; no host was switched`);
    await expectEveryHostOn(project, r1, 'v1\n');
    await expectFree(project);
  }, 60_000);

  it('--to something that is not a release id is a usage error (exit 2) and touches nothing', async () => {
    const before = await snapshot(project);
    for (const bad of ['yesterday', '', `${r3}/../x`]) {
      const result = await rollback('--to', bad);
      expect(result.code, `--to '${bad}'`).toBe(2);
      expect(result.stderr).toContain(`--to ${bad} is not a release id`);
    }
    expect(await snapshot(project)).toEqual(before);
  }, 60_000);

  it('a release incomplete on one host is never picked: rollback skips it, or refuses when nothing older is complete everywhere', async () => {
    r4 = await deploy(project, 'v4\n');
    // h2 has no r2 (removed above); r3 loses its manifest on h3: incomplete there.
    await project.sh('h3', `rm releases/${r3}/.deployr-release.json`);
    const back = await rollback();
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain(`rolling back to ${r1}`);
    await expectEveryHostOn(project, r1, 'v1\n');

    const incomplete = await rollback('--to', r3);
    expect(incomplete.code).toBe(1);
    expect(incomplete.stderr).toContain(`Cannot roll back to ${r3}: it is missing or incomplete on h3;`);
    await expectEveryHostOn(project, r1, 'v1\n');

    // Back on r4, with r1 incomplete on h1 too: nothing older is complete everywhere.
    expect((await rollback('--to', r4)).code).toBe(0);
    await project.sh('h1', `rm releases/${r1}/.deployr-release.json`);
    const none = await rollback();
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`No release older than ${r4} is complete on every host of fleet; no host was switched`);
    await expectEveryHostOn(project, r4, 'v4\n');
    await expectFree(project);
  }, 90_000);
});

describe('deployr status', () => {
  let project: ReleaseProject;
  let r1: string;
  let r2: string;
  const status = (...args: string[]): Promise<CliResult> => project.cli(['status', 'fleet', ...args]);

  beforeAll(async () => {
    project = newProject();
    r1 = await deploy(project, 'v1\n');
    r2 = await deploy(project, 'v2\n');
  }, 120_000);

  it('after deploys: every host on the same release, no drift, lock free', async () => {
    const { code, stdout, stderr } = await status();
    expect(code, stderr).toBe(0);
    for (const host of HOSTS) expect(stdout).toMatch(new RegExp(`^${host}\\s+${r2}\\s+2\\s+-\\s+-$`, 'm'));
    expect(stdout).toContain('lock: free');
    expect(stdout).not.toContain('drift');
    expect(stdout).toContain(`h1 releases: ${r1}, ${r2} (current)`);
  }, 60_000);

  it('reports current moved by hand on h2 and a file edited in place on h3; --json has the same', async () => {
    await project.sh('h2', `ln -sfn releases/${r1} current && chown -h ${fleet.user}:${fleet.user} current`);
    await project.sh('h3', 'echo hacked >> current/server.js');

    const { code, stdout, stderr } = await status();
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(new RegExp(`^h2\\s+${r1}\\s`, 'm'));
    expect(stdout).toContain(`drift: h2 is not on ${r2} like the other hosts`);
    expect(stdout).toContain("drift: h3's current release was modified on the host since it was deployed: changed server.js");
    expect(stdout).not.toMatch(/drift: h[12]'s current release was modified/);

    const json = await status('--json');
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as {
      environment: string;
      hosts: Array<{ host: string; current?: string; releases: Array<{ id: string; complete: boolean }>; modified?: { changed: string[]; missing: string[] }; lock?: unknown }>;
    };
    expect(report.environment).toBe('fleet');
    expect(report.hosts.map((h) => [h.host, h.current])).toEqual([['h1', r2], ['h2', r1], ['h3', r2]]);
    for (const host of report.hosts) {
      expect(host.releases, host.host).toEqual([{ id: r1, complete: true }, { id: r2, complete: true }]);
      expect(host.modified, host.host).toEqual(host.host === 'h3' ? { changed: ['server.js'], missing: [] } : { changed: [], missing: [] });
      expect(host.lock, host.host).toBeUndefined();
    }
  }, 60_000);

  it('shows who holds the lock while a deploy runs; the deploy then puts every host back in line', async () => {
    await hold(project);
    const running = project.start(['deploy', 'fleet', '--json']);
    await waitFor('the deploy to build', running, () => buildStarted(running));
    const runId = runIdOf(running.stdout());
    try {
      const { code, stdout } = await status();
      expect(code).toBe(0);
      for (const host of HOSTS) {
        expect(stdout).toMatch(new RegExp(`^${host}\\s.*\\slocked$`, 'm'));
        expect(stdout).toContain(`lock on ${host}: ${ME} (pid ${running.child.pid}), since `);
      }
      expect(stdout).toContain(`running "deploy" (run ${runId})`);
      expect(stdout).not.toContain('lock: free');

      const json = JSON.parse((await status('--json')).stdout) as { hosts: Array<{ lock?: { pid: number; runId: string; task: string } }> };
      expect(json.hosts.map((h) => h.lock)).toEqual(HOSTS.map(() => expect.objectContaining({ pid: running.child.pid, runId, task: 'deploy' })));
    } finally {
      await letGo(project);
    }
    const done = await running.result;
    expect(done.code, done.stderr).toBe(0);

    const after = await status();
    expect(after.stdout).toContain('lock: free');
    expect(after.stdout).not.toContain('drift');
    const release = releaseIdOf(done.stdout);
    for (const host of HOSTS) expect(after.stdout).toMatch(new RegExp(`^${host}\\s+${release}\\s+3\\s`, 'm'));
  }, 90_000);
});

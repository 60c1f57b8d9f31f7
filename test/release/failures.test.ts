// A deploy that fails part-way, on the fleet, must leave every host as it was:
// `current` still on the previous release, no unfinished release, no lock.
// Failures injected: a predeploy hook throwing on one host; a host's sshd
// killed during the upload (that host keeps its lock until `deployr unlock`,
// and the next deploy removes its unfinished release); a build command
// failing on one host; a switch hook failing after the other hosts switched
// (all three are switched back); Ctrl-C during a long build.
import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliProcess } from '../cli/run-cli.js';
import type { FleetHost, FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { events, killSshd, releaseProject, startHost, type ReleaseProject } from './release-project.js';

let fleet: FleetState;
let h1: FleetHost, h2: FleetHost, h3: FleetHost;
/** h5, used by this file alone: its sshd is killed (see the host plan in test/fleet/global-setup.ts). */
let dedicated: FleetHost;

beforeAll(() => {
  fleet = useFleet();
  [h1, h2, h3] = fleet.hosts as [FleetHost, FleetHost, FleetHost];
  if (fleet.hosts.length < 6) throw new Error(`the release failure tests need 6 fleet hosts (h5 is theirs alone); this fleet has ${fleet.hosts.length}: set DEPLOYR_TEST_HOSTS=6 or more`);
  dedicated = fleet.hosts[4] as FleetHost;
});

// Whatever happens in the sshd test, the dedicated host must come back.
afterAll(async () => {
  if (dedicated) await startHost(fleet, dedicated.name);
});

/** A first deploy that succeeds: the release every failed deploy must leave in place. */
async function firstDeploy(project: ReleaseProject, env: string, names: readonly string[]): Promise<string> {
  const { code, stderr } = await project.cli(['deploy', env, '--json']);
  expect(code, stderr).toBe(0);
  const previous = await project.current(names[0] as string);
  expect(previous).not.toBe('');
  for (const name of names) expect(await project.current(name), name).toBe(previous);
  return previous;
}

/** The host is exactly as the first deploy left it: current → previous, no other release, no lock. */
async function expectUntouched(project: ReleaseProject, names: readonly string[], previous: string): Promise<void> {
  for (const name of names) {
    expect(await project.current(name), `current on ${name}`).toBe(previous);
    expect(await project.releases(name), `releases on ${name}`).toEqual([previous]);
    expect(await project.lock(name), `lock on ${name}`).toBe('');
  }
}

/** Log and warning messages of a --json run, with their host ('' for the run's own). */
function messages(stdout: string): Array<{ host: string; message: string }> {
  return events(stdout)
    .filter((event) => event['type'] === 'log' || event['type'] === 'warning')
    .map((event) => ({ host: typeof event['host'] === 'string' ? event['host'] : '', message: String(event['message']) }));
}

/** Waits until a background --json run has printed an event that matches (complete lines only). */
async function waitForEvent(running: CliProcess, match: (event: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = running.stdout();
    const found = events(out.slice(0, out.lastIndexOf('\n') + 1)).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; stdout so far:\n${out.slice(-4000)}`);
    if (running.child.exitCode !== null) throw new Error(`the run ended (code ${running.child.exitCode}) before a matching event:\n${out.slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const commandStart = (host: string, text: string) => (event: Record<string, unknown>) =>
  event['type'] === 'command:start' && event['host'] === host && String(event['command']).includes(text);

describe('a failed deploy leaves every host as it was', () => {
  it('a predeploy hook throwing on one host: nothing is uploaded or switched anywhere, the locks are released', async () => {
    const project = releaseProject(fleet, {
      extra: `hooks: { predeploy: async (ctx) => { if (process.env.FAIL_PREDEPLOY && ctx.target.name === ${JSON.stringify(h2.name)}) throw new Error('no disk on ${h2.name}'); } },`,
    });
    const names = project.hosts.map((h) => h.name);
    const previous = await firstDeploy(project, 'fleet', names);
    project.write('public/index.html', '<h1>v2</h1>\n');

    const { code, stdout, stderr } = await project.cli(['deploy', 'fleet', '--json'], { FAIL_PREDEPLOY: '1' });
    expect(code).toBe(1);
    expect(stderr).toContain(`[deploy.config] failed in "predeploy" on ${h2.name}: no disk on ${h2.name}`);
    // The run stopped before the upload.
    expect(stdout).not.toContain('tar -x');
    await expectUntouched(project, names, previous);
  }, 90_000);

  it("one host's sshd killed during the upload: no host switches, the reachable ones are cleaned up; that host keeps its lock until `deployr unlock`, and the next deploy removes its unfinished release", async () => {
    const lost = dedicated.name;
    const names = [h1.name, h2.name, lost];
    const project = releaseProject(fleet, { environments: `wide: { hosts: HOSTS(${names.join(',')}) },` });
    const previous = await firstDeploy(project, 'wide', names);
    // Big enough that the upload is still running when sshd dies.
    project.write('big.bin', randomBytes(40 * 1024 * 1024));

    const running = project.start(['deploy', 'wide', '--json']);
    try {
      await waitForEvent(running, commandStart(lost, 'tar -x'));
      await killSshd(fleet, lost);
      const { code, stdout, stderr } = await running.result;
      expect([1, 3], stderr).toContain(code);
      // The failure is the lost host's, and it happened before anything switched.
      const failed = events(stdout).filter((event) => event['type'] === 'task:end' && event['status'] === 'failed');
      expect(failed.map((event) => event['host'])).toEqual([lost]);
      expect(['deploy:update', 'deploy:shared', 'deploy:build']).toContain(failed[0]?.['task']);
      expect(stdout).not.toContain('current → ');
      expect(stderr).toContain(lost);
      expect(messages(stdout).some(({ message }) => message.includes(`${lost}: could not clean up`) && message.includes('deployr unlock wide'))).toBe(true);

      await expectUntouched(project, [h1.name, h2.name], previous);
      // The lost host (read without sshd): still on the previous release, with this run's lock and its unfinished release.
      expect(await project.current(lost)).toBe(previous);
      const left = (await project.releases(lost)).filter((id) => id !== previous);
      expect(left).toHaveLength(1);
      const unfinished = left[0] as string;
      expect((await project.sh(lost, `test -e releases/${unfinished}/.deployr-release.json && echo complete || echo incomplete`)).stdout.trim()).toBe('incomplete');
      const holder = JSON.parse(await project.lock(lost)) as { user: string; machine: string; pid: number; task: string };
      expect(holder).toMatchObject({ machine: hostname(), pid: running.child.pid, task: 'deploy' });

      await startHost(fleet, lost);
      const unlock = await project.cli(['unlock', 'wide']);
      expect(unlock.code, unlock.stderr).toBe(0);
      expect(unlock.stdout).toContain(`removed the lock held by ${holder.user}@${holder.machine} (pid ${holder.pid})`);
      expect(await project.lock(lost)).toBe('');

      const next = await project.cli(['deploy', 'wide', '--json']);
      expect(next.code, next.stderr).toBe(0);
      const latest = await project.current(lost);
      expect(latest).not.toBe(previous);
      expect(latest).not.toBe(unfinished);
      for (const name of names) {
        expect(await project.current(name), name).toBe(latest);
        expect(await project.releases(name), name).toEqual([previous, latest]);
        expect(await project.lock(name), name).toBe('');
      }
      expect((await project.sh(lost, 'stat -c %s current/big.bin')).stdout.trim()).toBe(String(40 * 1024 * 1024));
    } finally {
      running.child.kill('SIGKILL');
      await startHost(fleet, lost);
    }
  }, 180_000);

  it('a build command failing on one host: no host switches, the new release is removed everywhere, the command and its exit code are reported', async () => {
    const project = releaseProject(fleet, {
      // Fails only where deployTo holds a fail-build marker (hosts share the machine's hostname).
      release: `{ source: 'app', build: 'if [ -e ../../fail-build ]; then echo "no compiler on this host" >&2; exit 7; fi; echo "$DEPLOYR_RELEASE" > BUILT' }`,
    });
    const names = project.hosts.map((h) => h.name);
    const previous = await firstDeploy(project, 'fleet', names);
    await project.sh(h2.name, 'touch fail-build');
    project.write('public/index.html', '<h1>v2</h1>\n');

    const { code, stdout, stderr } = await project.cli(['deploy', 'fleet', '--json']);
    expect(code).toBe(1);
    expect(stderr).toContain(`✖ ${h2.name} — task "deploy:build"`);
    expect(stderr).toContain('exit 7');
    expect(stderr).toContain('exit code 7');
    expect(stderr).toContain('no compiler on this host');
    // The other hosts did build the new release before it was removed.
    const built = events(stdout).filter((event) => event['type'] === 'task:end' && event['task'] === 'deploy:build' && event['status'] === 'ok');
    expect(built.map((event) => event['host']).sort()).toEqual(names.filter((name) => name !== h2.name));
    await expectUntouched(project, names, previous);
  }, 90_000);

  it('a switch hook failing on one host after the others switched: every host, that one included, is switched back', async () => {
    const project = releaseProject(fleet, {
      // h3 waits so that h1 and h2 have switched (and run their hook) before it fails.
      extra: `hooks: { switch: async (ctx) => { if (process.env.REFUSE_SWITCH && ctx.target.name === ${JSON.stringify(h3.name)}) { await new Promise((r) => setTimeout(r, 300)); throw new Error('switch refused'); } } },`,
    });
    const names = project.hosts.map((h) => h.name);
    const previous = await firstDeploy(project, 'fleet', names);
    project.write('public/index.html', '<h1>v2</h1>\n');

    const { code, stdout, stderr } = await project.cli(['deploy', 'fleet', '--json'], { REFUSE_SWITCH: '1' });
    expect(code).toBe(1);
    expect(stderr).toContain(`[deploy.config] failed in "switch" on ${h3.name}: switch refused`);
    const logged = messages(stdout);
    const target = logged.find(({ message }) => message.startsWith('current → '))?.message.slice('current → '.length);
    expect(target).toBeTruthy();
    for (const name of names) {
      // Each host did switch to the new release, then was switched back.
      expect(logged, name).toContainEqual({ host: name, message: `current → ${target}` });
      expect(logged, name).toContainEqual({ host: name, message: `switched back: current → ${previous}` });
      expect(logged, name).toContainEqual({ host: name, message: `removed the unfinished release ${target}` });
    }
    await expectUntouched(project, names, previous);
  }, 90_000);

  it('Ctrl-C during the build: exit 130, the build stopped on every host, its release removed, no host switched, no lock left', async () => {
    const seconds = 30_000 + randomInt(20_000);
    const project = releaseProject(fleet, {
      release: `{ source: 'app', build: process.env.SLOW_BUILD ? 'sleep ${seconds}' : 'echo "$DEPLOYR_RELEASE" > BUILT' }`,
    });
    const names = project.hosts.map((h) => h.name);
    const previous = await firstDeploy(project, 'fleet', names);
    project.write('public/index.html', '<h1>v2</h1>\n');
    // The hosts share the machine's process table: one pgrep sees every host's processes.
    const sleeping = `pgrep -u ${fleet.user} -f 'sleep ${seconds}' || true`;
    const builds = async () => (await project.sh(h1.name, `pgrep -u ${fleet.user} -x -f 'sleep ${seconds}' || true`)).stdout.split('\n').filter(Boolean).length;

    const running = project.start(['deploy', 'fleet', '--json'], { SLOW_BUILD: '1' });
    try {
      for (const name of names) await waitForEvent(running, commandStart(name, `sleep ${seconds}`));
      // command:start is the request going out; wait until the three builds really run.
      const deadline = Date.now() + 20_000;
      while ((await builds()) < names.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await builds()).toBe(names.length);
      running.child.kill('SIGINT');
      const { code, stdout } = await running.result;
      expect(code).toBe(130);
      expect(stdout).not.toContain('current → ');
      for (const name of names) expect((await project.sh(name, sleeping)).stdout.trim(), name).toBe('');
      await expectUntouched(project, names, previous);
    } finally {
      running.child.kill('SIGKILL');
    }
  }, 90_000);
});

// deployr:supervisor on the fleet (h1 and h2 only), through the real CLI: the
// first deploy installs supervisor from apt's cache into each host's own
// /usr and starts a Python HTTP app under supervisord; the test asks the app
// over HTTP what it runs. Then: a redeploy that leaves the program file
// alone, status and tail, --dry-run, a crash-looping release that puts every
// host back, and the rolling and stop-start strategies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostShell, type FleetState } from '../../fleet/fleet.js';
import { useFleet } from '../../fleet/use-fleet.js';
import { events } from '../../release/release-project.js';
import { CRASHING_PY, MOTTO, SERVER_PY, supervisorProject, type SupervisorProject } from './project.js';

const HOSTS = ['h1', 'h2'];

let fleet: FleetState;
let project: SupervisorProject;
const deploy = (...extra: string[]) => project.cli(['deploy', 'fleet', ...extra]);
const onHosts = <T>(fn: (host: string) => Promise<T>) => Promise.all(HOSTS.map(fn));

/** Supervisor as a fresh host has it: not installed, nothing running, no files. */
const REMOVE_SUPERVISOR = [
  'if [ -e /run/supervisord.pid ]; then service supervisor stop >/dev/null 2>&1 || true; fi',
  'if dpkg -s supervisor >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive dpkg --purge supervisor >/dev/null 2>&1; fi',
  'rm -rf /etc/supervisor /var/log/supervisor',
  'dpkg -s supervisor >/dev/null 2>&1 && echo still-installed || true',
].join('\n');

/** What the --json events say about changes: `host what status`. */
function changes(stdout: string): string[] {
  return events(stdout).flatMap((event) => {
    const change = (event['data'] as { change?: { what: string; status: string; predicted: boolean } } | undefined)?.change;
    return change ? [`${String(event['host'])} ${change.what} ${change.status}${change.predicted ? ' (predicted)' : ''}`] : [];
  });
}

/** The commands of a --json run as `host task: command`. */
function commands(stdout: string): string[] {
  return events(stdout).flatMap((event) => (event['type'] === 'command:start' ? [`${String(event['host'])} ${String(event['task'])}: ${String(event['command'])}`] : []));
}

/** The pid supervisord reports for the program on a host ('' when it does not run). */
async function pidOf(host: string): Promise<string> {
  return (await hostShell(fleet, host, `supervisorctl pid ${project.program} 2>/dev/null || true`)).stdout.trim();
}

beforeAll(async () => {
  fleet = useFleet();
  const missing = HOSTS.filter((name) => !fleet.hosts.some((h) => h.name === name));
  if (missing.length > 0) throw new Error(`the fleet has no ${missing.join(', ')}; start it with at least 2 hosts`);
  const left = await onHosts(async (host) => (await hostShell(fleet, host, REMOVE_SUPERVISOR, { timeoutMs: 60_000 })).stdout.trim());
  expect(left).toEqual(['', '']);
  project = supervisorProject(fleet, HOSTS);
}, 90_000);

afterAll(async () => {
  if (!project) return;
  // Leave no daemon behind on hosts other test files share.
  await onHosts((host) => hostShell(fleet, host, `service supervisor stop >/dev/null 2>&1; rm -f ${project.confFile}; true`, { timeoutMs: 30_000 }));
}, 60_000);

describe('deployr:supervisor on the fleet', () => {
  let first = '';
  let second = '';
  let third = '';
  let fourth = '';

  it('first deploy installs supervisor on each host, writes the program file and serves the app from the release', async () => {
    const { code, stdout, stderr } = await deploy('--json');
    expect(code, stderr).toBe(0);
    expect(changes(stdout).sort()).toEqual(
      HOSTS.flatMap((host) => [`${host} package supervisor installed`, `${host} ${project.confFile} created`]).sort(),
    );
    const run = commands(stdout);
    for (const host of HOSTS) {
      expect(run).toContain(`${host} deploy:prepare: sudo -n -H -- sh -c '${"if test -d /run/systemd/system; then systemctl enable --now supervisor; elif command -v service >/dev/null 2>&1; then service supervisor start; elif command -v rc-service >/dev/null 2>&1; then rc-update add supervisor default && rc-service supervisor start; else echo '\\''no systemd, service(8) or rc-service to start supervisor with'\\'' >&2; exit 127; fi"}'`);
      expect(run).toContain(`${host} deploy:switch: sudo -n -H -- sh -c 'mkdir -p -- /var/log/supervisor && supervisorctl reread && supervisorctl update ${project.program}'`);
    }
    first = await project.current('h1');
    expect(first).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{4}$/);
    expect(await project.current('h2')).toBe(first);
    for (const host of HOSTS) {
      // Its release (cwd through current), its version file, its user, HOME set for it, a value that needed escaping.
      expect(await project.get(host)).toBe(`${first} v1 ${fleet.user} /home/${fleet.user} ${MOTTO}\n`);
      const address = fleet.hosts.find((h) => h.name === host)?.address;
      expect((await hostShell(fleet, host, `cat ${project.confFile}`)).stdout).toBe(
        [
          '; Written by deployr:supervisor on every deploy: changes made here are replaced.',
          `[program:${project.program}]`,
          'command=/usr/bin/python3 server.py',
          `directory=/home/${fleet.user}/${project.deployTo}/current`,
          `user=${fleet.user}`,
          'autostart=true',
          'autorestart=true',
          'startsecs=1',
          'startretries=3',
          'stopsignal=TERM',
          'stopwaitsecs=10',
          'stopasgroup=true',
          'killasgroup=true',
          `stdout_logfile=/var/log/supervisor/${project.program}.out.log`,
          `stderr_logfile=/var/log/supervisor/${project.program}.err.log`,
          `environment=HOME="/home/${fleet.user}",USER="${fleet.user}",BIND="${address}",PORT="${project.port}",MOTTO='say "hi", 100%% sure',PYTHONUNBUFFERED="1"`,
          '',
        ].join('\n'),
      );
    }
  }, 150_000);

  it('a redeploy with the same config leaves the program file alone (no reread/update) and restarts the app into the new release', async () => {
    project.write('VERSION', 'v2\n');
    const pids = await onHosts(pidOf);
    const { code, stdout, stderr } = await deploy('--json');
    expect(code, stderr).toBe(0);
    expect(changes(stdout).sort()).toEqual(HOSTS.flatMap((host) => [`${host} package supervisor unchanged`, `${host} ${project.confFile} unchanged`]).sort());
    const run = commands(stdout);
    expect(run.filter((line) => /supervisorctl (reread|update)/.test(line))).toEqual([]);
    for (const host of HOSTS) expect(run).toContain(`${host} deploy:switch: sudo -n -H -- sh -c 'supervisorctl restart '\\''${project.program}:*'\\'''`);
    second = await project.current('h1');
    expect(second).not.toBe(first);
    for (const [index, host] of HOSTS.entries()) {
      expect(await project.get(host)).toBe(`${second} v2 ${fleet.user} /home/${fleet.user} ${MOTTO}\n`);
      expect(await pidOf(host)).not.toBe(pids[index]);
    }
  }, 120_000);

  it('supervisor:status and supervisor:tail report each host; roles limit them; a bad line count is refused', async () => {
    // Read-only runs, side by side.
    const [status, tail, onlyApp, bad] = await Promise.all([
      project.cli(['supervisor:status', 'fleet']),
      project.cli(['supervisor:tail', 'fleet', '2']),
      project.cli(['supervisor:status', 'mixed']),
      project.cli(['supervisor:tail', 'fleet', 'lots']),
    ]);
    expect(status.code, status.stderr).toBe(0);
    for (const host of HOSTS) expect(status.stdout).toMatch(new RegExp(`^\\[${host}\\]   ${project.program} +RUNNING +pid \\d+, uptime`, 'm'));

    expect(tail.code, tail.stderr).toBe(0);
    for (const host of HOSTS) {
      const address = fleet.hosts.find((h) => h.name === host)?.address;
      expect(tail.stdout).toContain(`[${host}]   ==> /var/log/supervisor/${project.program}.err.log <==`);
      // The requests this test made (stderr) and the app's start line (stdout).
      expect(tail.stdout).toMatch(new RegExp(`^\\[${host}\\]   \\S+ - - \\[.*\\] "GET / HTTP/1.1" 200 -$`, 'm'));
      expect(tail.stdout).toContain(`[${host}]   listening on ${address}:${project.port} for ${second}`);
    }

    expect(onlyApp.code, onlyApp.stderr).toBe(0);
    expect(onlyApp.stdout).toContain('[h1]   ');
    expect(onlyApp.stdout).not.toContain('[h2] ');

    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('supervisor:tail takes one argument, a number of lines from 1 to 100000; got "lots"');
  }, 90_000);

  it('--dry-run shows the program file diff and what would run, and changes nothing', async () => {
    project.configure('stopwaitsecs: 5,');
    try {
      const before = await onHosts(async (host) => [await project.current(host), (await hostShell(fleet, host, `cat ${project.confFile}`)).stdout, await pidOf(host)]);
      const { code, stdout, stderr } = await deploy('--dry-run');
      expect(code, stderr).toBe(0);
      for (const host of HOSTS) {
        expect(stdout).toContain(`[${host}] ℹ would update ${project.confFile}`);
        expect(stdout).toContain(`[${host}] ℹ -stopwaitsecs=10\n`);
        expect(stdout).toContain(`[${host}] ℹ +stopwaitsecs=5\n`);
        expect(stdout).toContain(`[${host}] $ sudo -n -H -- sh -c 'mkdir -p -- /var/log/supervisor && supervisorctl reread && supervisorctl update ${project.program}'`);
      }
      const after = await onHosts(async (host) => [await project.current(host), (await hostShell(fleet, host, `cat ${project.confFile}`)).stdout, await pidOf(host)]);
      expect(after).toEqual(before);
    } finally {
      project.configure();
    }
  }, 90_000);

  it('a release that crash-loops fails the deploy naming program, host and state; every host goes back and the old program answers', async () => {
    project.write('server.py', CRASHING_PY);
    try {
      const { code, stderr } = await deploy();
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`\\[deployr:supervisor\\] failed in "switch" on (h1|h2): program ${project.program} did not start on \\1: (BACKOFF|FATAL|EXITED)`));
      expect(stderr).toContain('boom: this release cannot start');
      expect(stderr).toContain('switches every host back to the previous release');
      for (const host of HOSTS) {
        expect(await project.current(host)).toBe(second);
        expect(await project.get(host)).toBe(`${second} v2 ${fleet.user} /home/${fleet.user} ${MOTTO}\n`);
        expect((await hostShell(fleet, host, `supervisorctl status ${project.program}:'*'`)).stdout).toMatch(/ RUNNING +pid /);
      }
    } finally {
      project.write('server.py', SERVER_PY);
    }
  }, 120_000);

  it("restart: 'rolling' restarts one host at a time, after every host switched", async () => {
    project.configure("restart: 'rolling',");
    project.write('VERSION', 'v3\n');
    const { code, stdout, stderr } = await deploy('--json');
    expect(code, stderr).toBe(0);
    const steps = events(stdout).flatMap((event) => {
      if (event['type'] === 'command:start' && String(event['command']).includes('supervisorctl restart')) return [`${String(event['host'])} ${String(event['task'])} restart`];
      if (event['type'] === 'log' && event['message'] === `${project.program}: RUNNING`) return [`${String(event['host'])} ${String(event['task'])} running`];
      return [];
    });
    const [a, b] = steps.length === 4 ? [steps[0]?.split(' ')[0], steps[2]?.split(' ')[0]] : [];
    expect(steps).toEqual([`${a} deploy:postdeploy restart`, `${a} deploy:postdeploy running`, `${b} deploy:postdeploy restart`, `${b} deploy:postdeploy running`]);
    expect([a, b].sort()).toEqual(HOSTS);
    third = await project.current('h1');
    for (const host of HOSTS) expect(await project.get(host)).toBe(`${third} v3 ${fleet.user} /home/${fleet.user} ${MOTTO}\n`);
  }, 120_000);

  it("restart: 'stop-start' stops the program before the switch and starts it after", async () => {
    project.configure("restart: 'stop-start',");
    project.write('VERSION', 'v4\n');
    const { code, stdout, stderr } = await deploy('--json');
    expect(code, stderr).toBe(0);
    const run = commands(stdout).filter((line) => /supervisorctl (start|stop|restart) /.test(line));
    expect(run.sort()).toEqual(
      HOSTS.flatMap((host) => [
        `${host} deploy:prepare: sudo -n -H -- sh -c 'supervisorctl stop '\\''${project.program}:*'\\'''`,
        `${host} deploy:switch: sudo -n -H -- sh -c 'supervisorctl start '\\''${project.program}:*'\\'''`,
      ]).sort(),
    );
    fourth = await project.current('h1');
    for (const host of HOSTS) expect(await project.get(host)).toBe(`${fourth} v4 ${fleet.user} /home/${fleet.user} ${MOTTO}\n`);
  }, 120_000);

  it("restart: 'stop-start': a deploy that fails before the switch starts the stopped program again", async () => {
    project.configure("restart: 'stop-start',", `hooks: { prepare: (ctx) => { if (ctx.target.name === 'h2') throw new Error('h2 is not ready'); } },`);
    project.write('VERSION', 'v5\n');
    try {
      const pids = await onHosts(pidOf);
      const { code, stdout } = await deploy('--json');
      expect(code).toBe(1);
      const run = commands(stdout).filter((line) => /supervisorctl (start|stop|restart) /.test(line));
      const stopped = run.filter((line) => line.includes(' deploy:prepare: ') && line.includes('supervisorctl stop')).map((line) => line.split(' ')[0]);
      expect(stopped).toContain('h1'); // h2 may have stopped too, depending on whether the failing hook ran first there
      expect(run.filter((line) => line.includes('supervisorctl start')).map((line) => line.split(' ')[0]).sort()).toEqual([...stopped].sort());
      for (const [index, host] of HOSTS.entries()) {
        expect(await project.current(host)).toBe(fourth);
        expect(await project.get(host)).toBe(`${fourth} v4 ${fleet.user} /home/${fleet.user} ${MOTTO}\n`);
        if (stopped.includes(host)) expect(await pidOf(host)).not.toBe(pids[index]);
      }
    } finally {
      project.configure();
    }
  }, 120_000);

  it('deployr rollback restarts the program on the release it went back to', async () => {
    const { code, stderr } = await project.cli(['rollback', 'fleet']);
    expect(code, stderr).toBe(0);
    for (const host of HOSTS) {
      expect(await project.current(host)).toBe(third);
      expect(await project.get(host)).toBe(`${third} v3 ${fleet.user} /home/${fleet.user} ${MOTTO}\n`);
    }
  }, 90_000);
});

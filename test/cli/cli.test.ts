// The CLI end to end against the fleet: list, run, sudo, ssh, a custom task,
// the exact --dry-run output, parseable --json, every exit code, the
// confirmation, the failure summary and log file, and Ctrl-C.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostShell, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetProject, type FleetProject } from './fleet-project.js';
import { cli, startCli } from './run-cli.js';

const tag = randomBytes(4).toString('hex');
let fleet: FleetState;
let project: FleetProject;
let names: string[];

beforeAll(() => {
  fleet = useFleet();
  project = fleetProject(fleet, tag);
  names = fleet.hosts.slice(0, 3).map((h) => h.name);
});

/** Every line names its host ([h1] …) or is a run-level [deployr] line. */
function expectEveryLinePrefixed(stdout: string): void {
  const lines = stdout.trimEnd().split('\n');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(new RegExp(`^\\[(deployr|${names.join('|')})\\] `));
}

describe('deployr list', () => {
  it('shows tasks with descriptions, plugins, and the environment\'s hosts with roles', async () => {
    const { code, stdout } = await cli(['list', 'fleet'], project.dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ {2}hello +greet from every host$/m);
    expect(stdout).toMatch(/^ {2}notes +a plugin task \(from test:notes\)$/m);
    expect(stdout).toMatch(/^ {2}migrate +once, on the db host \(roles: db; once\)$/m);
    expect(stdout).toContain('Plugins: test:notes');
    const [h1, , h3] = fleet.hosts;
    expect(stdout).toContain(`  ${h1?.name}  ${fleet.user}@${h1?.address}:${h1?.port}  roles: web`);
    expect(stdout).toContain(`  ${h3?.name}  ${fleet.user}@${h3?.address}:${h3?.port}  roles: db`);
  });

  it('without an environment lists the environments', async () => {
    const { code, stdout } = await cli(['list', '--json'], project.dir);
    expect(code).toBe(0);
    const listed = JSON.parse(stdout) as { environments: Array<{ name: string; extends?: string }> };
    expect(listed.environments).toEqual([
      { name: 'fleet', description: 'the test fleet' },
      { name: 'guarded', description: '', extends: 'fleet' },
      { name: 'unreachable', description: '' },
      { name: 'untrusted', description: '' },
    ]);
  });
});

describe('running on hosts', () => {
  it('run: one command on every host, every line prefixed with its host', async () => {
    const { code, stdout } = await cli(['run', 'fleet', '--', 'echo', 'out-$(id -un)', ';', 'echo', 'err', '>&2'], project.dir);
    expect(code).toBe(0);
    expectEveryLinePrefixed(stdout);
    for (const name of names) expect(stdout).toContain(`[${name}]   out-${fleet.user}`);
  });

  it('sudo: runs as root', async () => {
    const { code, stdout } = await cli(['sudo', 'fleet', '--hosts', names[0] ?? '', '--', 'id', '-u'], project.dir);
    expect(code).toBe(0);
    expect(stdout).toContain(`[${names[0]}]   0\n`);
    expect(stdout).not.toContain(`[${names[1]}]`);
  });

  it('a custom task gets vars, its host and the extra arguments', async () => {
    const { code, stdout } = await cli(['hello', 'fleet', 'a b', '--roles', 'web'], project.dir);
    expect(code).toBe(0);
    expectEveryLinePrefixed(stdout);
    expect(stdout).toContain(`[${names[0]}]   hello from ${names[0]} a b\n`);
    expect(stdout).toContain(`[${names[1]}]   hello from ${names[1]} a b\n`);
    expect(stdout).not.toContain(`from ${names[2]}`);
  });

  it('a once task runs on the first host of its role only', async () => {
    const { code, stdout } = await cli(['migrate', 'fleet'], project.dir);
    expect(code).toBe(0);
    expect(stdout.match(/\] {3}migrating on/g)).toHaveLength(1);
    expect(stdout).toContain(`[${names[2]}]   migrating on ${names[2]}`);
  });

  it('--dry-run connects, prints each host\'s commands and runs none of them', async () => {
    const { code, stdout } = await cli(['hello', 'fleet', 'x', '--hosts', names[0] ?? '', '--dry-run'], project.dir);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        `[deployr] hello → fleet: 1 host (${names[0]}) (dry run)`,
        `[${names[0]}] ▶ hello`,
        `[${names[0]}] $ echo hello from ${names[0]} x`,
        `[${names[0]}] ✔ hello`,
        `[deployr] ✔ hello finished on 1 host`,
        '',
      ].join('\n'),
    );
  });

  it('--dry-run needs the hosts: an unreachable one fails like a real run', async () => {
    const { code, stdout } = await cli(['hello', 'unreachable', '--dry-run'], project.dir);
    expect(code).toBe(3);
    expect(stdout).toContain('(dry run)');
    expect(stdout).not.toContain('$ echo');
  });

  it('--json prints one parseable event per line on stdout', async () => {
    const { code, stdout } = await cli(['hello', 'fleet', '--json'], project.dir);
    expect(code).toBe(0);
    const events = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; runId: string; host?: string; text?: string });
    expect(events[0]?.type).toBe('run:start');
    expect(events.at(-1)).toMatchObject({ type: 'run:end', ok: true, exitCode: 0 });
    expect(new Set(events.map((e) => e.runId)).size).toBe(1);
    const outputs = events.filter((e) => e.type === 'command:output').map((e) => `${e.host}:${e.text?.trim()}`);
    expect(outputs.sort()).toEqual(names.map((n) => `${n}:hello from ${n}`).sort());
  });

  it('ssh runs a command on the chosen host through OpenSSH', async () => {
    const { code, stdout } = await cli(['ssh', 'fleet', names[1] ?? '', '--', 'echo', '$SSH_CONNECTION'], project.dir);
    expect(code).toBe(0);
    const h2 = fleet.hosts[1];
    expect(stdout.trim().split(' ').slice(2)).toEqual([h2?.address, String(h2?.port)]);
  });
});

describe('exit codes', () => {
  it('1 when a task fails: a summary names the host, command, exit code, stderr and log file', async () => {
    const { code, stdout, stderr } = await cli(['fail-on-h2', 'fleet'], project.dir);
    expect(code).toBe(1);
    expectEveryLinePrefixed(stdout);
    const h2 = names[1] ?? '';
    expect(stderr).toContain(h2);
    expect(stderr).toContain(`echo boom-${tag} >&2; exit 3`);
    expect(stderr).toMatch(/exit code 3/);
    expect(stderr).toContain(`boom-${tag}`);
    const logPath = stderr.match(/(\/\S+\.log)/)?.[1];
    expect(logPath, stderr).toBeDefined();
    expect(readFileSync(logPath ?? '', 'utf8')).toContain(`boom-${tag}`);
    expect(readFileSync(project.failureMark, 'utf8')).toBe(h2);
  });

  it('2 for an unknown task, environment or option, without a stack trace', async () => {
    for (const args of [['deplyo', 'fleet'], ['deploy', 'flet'], ['deploy', 'fleet', '--concurrency', 'zero'], ['deploy', 'fleet', '--hosts', 'nope']]) {
      const { code, stderr } = await cli(args, project.dir);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr).not.toMatch(/^\s+at /m);
    }
    const typo = await cli(['deploy', 'flet'], project.dir);
    expect(typo.stderr).toContain("did you mean 'fleet'?");
  });

  it('3 when a host cannot be reached or its key is not trusted', async () => {
    const refused = await cli(['hello', 'unreachable'], project.dir);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(names[0]);
    const untrusted = await cli(['hello', 'untrusted'], project.dir);
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/SHA256:/);
  });

  it('2 when an environment asks for confirmation and there is no terminal; --yes answers it', async () => {
    const refused = await cli(['hello', 'guarded'], project.dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    expect(refused.stdout).toBe('');
    const confirmed = await cli(['hello', 'guarded', '--yes'], project.dir);
    expect(confirmed.code).toBe(0);
  });

  it('130 on Ctrl-C: commands stopped on every host, failure hook run', async () => {
    const pattern = `sleep ${project.sleepSeconds}`;
    const running = startCli(['hang', 'fleet', '--json'], project.dir);
    const deadline = Date.now() + 20_000;
    while ((running.stdout().match(/"text":"started\\n"/g) ?? []).length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await hostShell(fleet, names[0] ?? '', `pgrep -f '^${pattern}$' || true`)).stdout.trim()).not.toBe('');
    running.child.kill('SIGINT');
    const { code } = await running.result;
    expect(code).toBe(130);
    for (const name of names) {
      expect((await hostShell(fleet, name, `pgrep -af '^${pattern}$' || true`)).stdout.trim(), name).toBe('');
    }
    expect(existsSync(project.failureMark)).toBe(true);
  });
});

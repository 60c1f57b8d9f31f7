// cd / env / prefix contexts over real SSH: nesting, callback forms, relative
// and ~ paths, values that need quoting, and derived Hosts that never change
// the Host they came from.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, cmd, secret, type Host, type HostEvent } from '../../core/index.js';
import { hostShell, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetHosts } from './fleet-targets.js';

const tag = randomBytes(4).toString('hex');
const HOST = 'h3';
const work = `/srv/context-test-${tag}`;
const homeDir = `ctx-${tag}`; // under the login user's home
const homePath = () => `/home/${fleet.user}`;

let fleet: FleetState;
let targets: ReturnType<typeof fleetHosts>;
let host: Host;

beforeAll(async () => {
  fleet = useFleet();
  targets = fleetHosts(fleet);
  host = targets.host(HOST);
  await host.exec(cmd`mkdir -p ${`${work}/app/current`} ${`${work}/shared`} ${`${homePath()}/${homeDir}/sub dir`} ${`${homePath()}/${homeDir}/-dash`} ${`${homePath()}/-lead-${tag}`}`);
});

afterAll(async () => {
  await host?.exec(cmd`rm -rf -- ${work} ${`${homePath()}/${homeDir}`} ${`${homePath()}/-lead-${tag}`}`, { nothrow: true });
  await targets?.close();
});

describe('cd', () => {
  it('nests: cd(abs).cd(rel) resolves against the current dir', async () => {
    expect((await host.cd(work).cd('app').exec('pwd')).stdout).toBe(`${work}/app\n`);
    expect((await host.cd(work).cd('app').cd('current').exec('pwd')).stdout).toBe(`${work}/app/current\n`);
    expect((await host.cd(work).cd('app/current').cd('../../shared').exec('pwd')).stdout).toBe(`${work}/shared\n`);
    expect(host.cd(work).cd('app').cd('./current/').cwd).toMatch(new RegExp(`^${work}/app/current/?$`));
  });

  it('an absolute or ~ path replaces the current dir', async () => {
    expect((await host.cd(`${work}/app`).cd(`${work}/shared`).exec('pwd')).stdout).toBe(`${work}/shared\n`);
    expect((await host.cd(`${work}/app`).cd(`~/${homeDir}`).exec('pwd')).stdout).toBe(`${homePath()}/${homeDir}\n`);
    expect((await host.cd(`${work}/app`).cd('~').exec('pwd')).stdout).toBe(`${homePath()}\n`);
  });

  it('~/ paths expand to the home dir while the rest stays quoted', async () => {
    expect((await host.cd(`~/${homeDir}/sub dir`).exec('pwd')).stdout).toBe(`${homePath()}/${homeDir}/sub dir\n`);
    expect((await host.cd(`~/${homeDir}`).cd('sub dir').exec('pwd')).stdout).toBe(`${homePath()}/${homeDir}/sub dir\n`);
    // A literal "~" later in the path is not expanded.
    const error = await host.cd(`${work}/~`).exec('pwd').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
  });

  it('a relative first cd starts from the login dir (home), names with spaces and a leading dash included', async () => {
    expect((await host.cd(homeDir).exec('pwd')).stdout).toBe(`${homePath()}/${homeDir}\n`);
    expect((await host.cd(`${homeDir}/sub dir`).exec('pwd')).stdout).toBe(`${homePath()}/${homeDir}/sub dir\n`);
    expect((await host.cd(homeDir).cd('-dash').exec('pwd')).stdout).toBe(`${homePath()}/${homeDir}/-dash\n`);
    // `cd -x` would be parsed as an option: a relative path starting with a dash must still work.
    expect((await host.cd(`-lead-${tag}`).exec('pwd')).stdout).toBe(`${homePath()}/-lead-${tag}\n`);
  });

  it('a missing dir runs nothing of a script: ; newlines || & and comments cannot escape the cd', async () => {
    const missing = `/nonexistent-${tag}`;
    const error = (await host.cd(missing).exec('echo a; echo b').catch((e: unknown) => e)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.stdout).toBe('');
    expect(error.stderr).toMatch(/No such file|can't cd/);
    expect(error.exitCode).not.toBe(0);

    const marker = `${work}/escaped-${tag}`;
    const scripts = [
      cmd`echo a; touch ${marker}`,
      cmd`false || touch ${marker}`,
      cmd`touch ${marker} & wait`,
      cmd`touch ${marker} &`,
      cmd`touch ${marker} # a comment`,
      cmd`echo a
touch ${marker}
`,
    ];
    for (const script of scripts) {
      const r = await host.cd(missing).env({ A: '1' }).exec(script, { nothrow: true });
      expect(r.ok, script.display()).toBe(false);
      expect(r.stdout, script.display()).toBe('');
    }
    // The same under sudo, where the group sits inside `sh -c`.
    const asRoot = await host.cd(missing).sudo(cmd`echo a; touch ${marker}`, { nothrow: true });
    expect(asRoot).toMatchObject({ ok: false, stdout: '' });
    await new Promise((resolve) => setTimeout(resolve, 200)); // a stray background touch would have run by now
    expect((await hostShell(fleet, HOST, `test -e ${marker} && echo escaped || echo contained`)).stdout).toBe('contained\n');
  });

  it('a grouped script runs whole when the cd works, logged as `cd … && { script; }`', async () => {
    const events: HostEvent[] = [];
    const h = targets.host(HOST, {}, { onEvent: (e) => events.push(e) });
    const app = h.cd(`${work}/app`);
    expect((await app.exec('echo a; pwd')).stdout).toBe(`a\n${work}/app\n`);
    expect((await app.exec('echo a # comment; echo no')).stdout).toBe('a\n');
    expect((await app.exec('cat <<EOF\n$((6 * 7))\nEOF')).stdout).toBe('42\n');
    expect((await app.exec('echo bg &')).stdout).toBe('bg\n');
    expect((await app.exec('ls')).stdout).toBe('current\n');
    const shown = events.flatMap((e) => (e.type === 'command:start' ? [e.command] : []));
    expect(shown).toEqual([
      `cd ${work}/app && { echo a; pwd; }`,
      `cd ${work}/app && { echo a # comment; echo no\n}`,
      `cd ${work}/app && { cat <<EOF\n$((6 * 7))\nEOF\n}`,
      `cd ${work}/app && { echo bg &\n}`,
      `cd ${work}/app && ls`,
    ]);
  });

  it('a missing dir fails the command before it runs', async () => {
    const marker = `${work}/ran-${tag}`;
    const error = (await host.cd(`${work}/missing`).exec(cmd`touch ${marker}`).catch((e: unknown) => e)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.stderr).toMatch(/No such file|can't cd/);
    expect(await host.exists(marker)).toBe(false);
  });
});

describe('env', () => {
  it('exports variables; nested env merges and later values win', async () => {
    const r = await host.env({ A: '1', B: 'b' }).env({ B: '2', C: 3, D: true }).exec('echo "$A $B $C $D"');
    expect(r.stdout).toBe('1 2 3 true\n');
  });

  it('values with spaces, quotes, $, backticks and newlines arrive literally', async () => {
    const values = {
      SPACES: '  two  spaces  ',
      QUOTES: `it's "quoted"`,
      DOLLAR: '$HOME $(id -u) ${PATH}',
      TICKS: '`id -u`',
      NEWLINE: 'line 1\nline 2\n',
      GLOB: '* ? [a-z]',
      SEMI: 'a; rm -rf /nonexistent && b || c | d > e',
      EMPTY: '',
      UNICODE: 'ünïcødé ✓ 日本',
    };
    const h = host.env(values);
    for (const [name, value] of Object.entries(values)) {
      expect((await h.exec(`printf '%s' "$${name}"`)).stdout, name).toBe(value);
    }
  });

  it('variables are exported to child processes', async () => {
    expect((await host.env({ CHILD: 'seen by sh' }).exec(`sh -c 'echo "$CHILD"'`)).stdout).toBe('seen by sh\n');
  });

  it('a secret value is usable by the command and masked in the logged command', async () => {
    const value = `env-secret-${tag}`;
    const events: HostEvent[] = [];
    const h = targets.host(HOST, {}, { onEvent: (e) => events.push(e) });
    const r = await h.env({ TOKEN: secret(value) }).exec(cmd`test "$TOKEN" = ${secret(value)} && echo match`);
    expect(r.stdout).toBe('match\n');
    const start = events.find((e) => e.type === 'command:start');
    expect(start?.type === 'command:start' && start.command).toContain('TOKEN=***');
    expect(JSON.stringify(events)).not.toContain(value);
  });

  it('rejects a name that is not a shell identifier at env(), before running anything', async () => {
    const events: HostEvent[] = [];
    const h = targets.host(HOST, {}, { onEvent: (e) => events.push(e) });
    expect(() => h.env({ 'BAD-NAME': 'x' })).toThrow(TypeError);
    expect(() => h.env({ 'A=B': 'x' })).toThrow(/not a valid environment variable name/);
    expect(() => h.cd(work).env({ OK: '1' }).env({ 'A;id': 'x' })).toThrow(TypeError);
    expect(events).toEqual([]); // nothing was sent to the host
  });
});

describe('prefix', () => {
  it('runs before the command, in the cd dir, seeing the env; several prefixes run in order', async () => {
    const r = await host
      .cd(work)
      .cd('app')
      .env({ A: '1' })
      .prefix('export B=2')
      .prefix(cmd`export C=${'three 3'}`)
      .exec('echo "$PWD $A $B $C"');
    expect(r.stdout).toBe(`${work}/app 1 2 three 3\n`);
  });

  it('a failing prefix stops the command', async () => {
    const marker = `${work}/prefix-ran-${tag}`;
    const error = await host.prefix('false').exec(cmd`touch ${marker}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(await host.exists(marker)).toBe(false);
  });

  it('the command keeps its own exit code and output after the context', async () => {
    const r = await host.cd(work).env({ X: 'y' }).prefix('true').exec('echo out; echo err >&2; exit 9', { nothrow: true });
    expect(r).toMatchObject({ code: 9, stdout: 'out\n', stderr: 'err\n' });
  });
});

describe('callback forms and immutability', () => {
  it('cd/env/prefix/as with a callback run it with the derived Host and return its result', async () => {
    const result = await host.cd(work, (h) =>
      h.env({ A: 'a' }, (h2) =>
        h2.prefix('export B=b', async (h3) => {
          const r = await h3.exec('echo "$PWD $A $B"');
          return r.stdout.trim();
        }),
      ),
    );
    expect(result).toBe(`${work} a b`);
    expect(await host.as('root', async (h) => (await h.exec('id -u')).stdout)).toBe('0\n');
  });

  it('a callback that throws rejects with its error', async () => {
    await expect(host.cd(work, async () => Promise.reject(new Error('from callback')))).rejects.toThrow('from callback');
  });

  it('derived Hosts never change the original or each other', async () => {
    const base = host.cd(work);
    const a = base.cd('app').env({ V: 'a' });
    const b = base.cd('shared').env({ V: 'b' });
    const [ra, rb, rbase, rhost] = await Promise.all([
      a.exec('echo "$PWD $V"'),
      b.exec('echo "$PWD $V"'),
      base.exec('echo "$PWD ${V-unset}"'),
      host.exec('echo "$PWD ${V-unset}"'),
    ]);
    expect(ra.stdout).toBe(`${work}/app a\n`);
    expect(rb.stdout).toBe(`${work}/shared b\n`);
    expect(rbase.stdout).toBe(`${work} unset\n`);
    expect(rhost.stdout).toBe(`${homePath()} unset\n`);
    expect(host.cwd).toBeUndefined();
    expect(base.cwd).toBe(work);
  });

  it('file helpers that run commands (writeFile, readFile, exists, mkdirp) honour cd and sudo context', async () => {
    const h = host.cd(work);
    await h.mkdirp(`made-${tag}/deeper`);
    await h.writeFile(`made-${tag}/deeper/file.txt`, 'in work');
    expect(await h.readFile(`made-${tag}/deeper/file.txt`)).toBe('in work');
    expect(await h.exists(`made-${tag}/deeper/file.txt`)).toBe(true);
    const where = await hostShell(fleet, HOST, `test -f ${work}/made-${tag}/deeper/file.txt && echo work; test -e ${homePath()}/made-${tag} && echo home; true`);
    expect(where.stdout).toBe('work\n');
    await h.as('root').writeFile(`root-${tag}.txt`, 'by root');
    expect((await host.exec(cmd`stat -c %U ${`${work}/root-${tag}.txt`}`)).stdout).toBe('root\n');
  });
});

// Quoting against the REAL remote login shell (bash, via sshd) and through
// sudo's `sh -c` (dash): hostile strings must arrive unchanged as one
// argument, in commands, cd() dirs, env values and under sudo.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmd, quote, raw, secret, type Host } from '../../core/index.js';
import { type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetHosts } from './fleet-targets.js';

const tag = randomBytes(4).toString('hex');
const HOST = 'h3';
const work = `/srv/quoting-test-${tag}`;

const HOSTILE: Record<string, string> = {
  'single quotes': `it's 'single' ''`,
  'double quotes': `say "hi" ""`,
  'command substitution': `$(touch ${work}/pwned-subst) $(id -u)`,
  backticks: `\`touch ${work}/pwned-tick\` \`id\``,
  variables: '$HOME ${PATH} $0 $1 $@ $* $# $? $$ $! $-',
  'shell operators': '; && || | & < > >> 2>&1 <<EOF ( ) { } !',
  globs: `* ? [a-z] ** ${work}/*`,
  'newlines and tabs': 'line 1\nline 2\n\ttabbed\r\n',
  'trailing newlines': 'text\n\n\n',
  'leading dash': '-n',
  'leading dashes': '--help -e -E',
  empty: '',
  'only spaces': '   ',
  'backslashes': 'a\\b\\\\c\\n\\',
  'history and tilde': '!! !$ ~ ~root ~/x',
  'comment and equals': '# not a comment A=b',
  unicode: 'ünïcødé ✓ 日本語 🚀 \u200b',
  'mixed quotes': `'"'"'"\`$'\\'`,
  '10 KB': Array.from({ length: 10 * 1024 }, (_, i) => `'"$\`\\;|&*?\n `[i % 12]).join(''),
};
const CASES = Object.entries(HOSTILE);
/** Usable as a directory name: non-empty, no '/', not '.' or '..', within NAME_MAX. */
const DIR_CASES = CASES.filter(([, v]) => v !== '' && !v.includes('/') && v !== '.' && v !== '..' && Buffer.byteLength(v) <= 255);

let fleet: FleetState;
let targets: ReturnType<typeof fleetHosts>;
let host: Host;
let pwHost: Host;

/** printf '%s' prints its argument exactly: no escapes, no trailing newline. */
const echo = (value: string) => cmd`printf '%s' ${value}`;

async function nothingExecuted(): Promise<void> {
  expect((await host.exec(cmd`ls -A ${work}`)).stdout.split('\n').filter((f) => f.startsWith('pwned'))).toEqual([]);
}

beforeAll(async () => {
  fleet = useFleet();
  targets = fleetHosts(fleet);
  host = targets.host(HOST);
  pwHost = targets.host(HOST, {}, { sudoPassword: fleet.password }, fleet.passwordUser);
  await host.exec(cmd`mkdir -p ${`${work}/dirs`} && chmod 0777 ${work} ${`${work}/dirs`}`);
});

afterAll(async () => {
  await host?.sudo(cmd`rm -rf -- ${work}`, { nothrow: true });
  await targets?.close();
});

describe('through the remote login shell', () => {
  it('the login shell really is a shell that would expand these (control)', async () => {
    expect((await host.exec(`printf '%s' $(echo expanded) "$HOME"`)).stdout).toBe(`expanded/home/${fleet.user}`);
    expect((await host.exec('echo "$0"')).stdout).toMatch(/bash/);
  });

  it.each(CASES)('%s: one argument, unchanged', async (_name, value) => {
    expect((await host.exec(echo(value))).stdout).toBe(value);
    expect((await host.exec(cmd`printf '%s\\n' ${[value, value]} | wc -l`)).stdout.trim()).toBe(String(2 + (value.match(/\n/g)?.length ?? 0) * 2));
  });

  it('arrays become one quoted argument per element', async () => {
    const values = CASES.map(([, v]) => v);
    const r = await host.exec(cmd`for a in ${values}; do printf '%s\\0' "$a"; done`);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(values);
    await nothingExecuted();
  });

  it('a secret with hostile characters is quoted like any value', async () => {
    const value = HOSTILE['mixed quotes']! + HOSTILE['command substitution']!;
    const r = await host.exec(cmd`test ${secret(value)} = ${value} && echo same`);
    expect(r.stdout).toBe('same\n');
    await nothingExecuted();
  });

  it('raw() is the only way to get shell syntax, and it works', async () => {
    expect((await host.exec(cmd`printf '%s' ${'$HOME'}`)).stdout).toBe('$HOME');
    expect((await host.exec(cmd`printf '%s' ${raw('$HOME')}`)).stdout).toBe(`/home/${fleet.user}`);
  });

  it('quote() output is safe to paste into a script string', async () => {
    const script = CASES.map(([, v]) => `printf '%s\\0' ${quote(v)}`).join('; ');
    const r = await host.exec(script);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(CASES.map(([, v]) => v));
  });
});

describe('in cd() dirs and env values', () => {
  it.each(DIR_CASES)('cd into a dir named %s', async (_name, name) => {
    const dir = `${work}/dirs/${name}`;
    await host.mkdirp(dir);
    expect(await host.exists(dir)).toBe(true);
    expect((await host.cd(dir).exec(`printf '%s' "$PWD"`)).stdout).toBe(dir);
    // Relative to a cd, through two levels.
    expect((await host.cd(`${work}/dirs`).cd(name).exec(`printf '%s' "$PWD"`)).stdout).toBe(dir);
    await host.cd(dir).writeFile('inside', name);
    expect(await host.readFile(`${dir}/inside`)).toBe(name);
  });

  it('env values round-trip unchanged', async () => {
    const vars = Object.fromEntries(CASES.map(([, v], i) => [`V${i}`, v]));
    const h = host.env(vars);
    const r = await h.exec(CASES.map((_, i) => `printf '%s\\0' "$V${i}"`).join('; '));
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(CASES.map(([, v]) => v));
    await nothingExecuted();
  });

  it('prefix commands built with cmd are quoted too', async () => {
    const value = HOSTILE['shell operators']! + HOSTILE['command substitution']!;
    expect((await host.prefix(cmd`export P=${value}`).exec(`printf '%s' "$P"`)).stdout).toBe(value);
    await nothingExecuted();
  });
});

describe('through sudo (quoted twice: login shell, then sh -c)', () => {
  it.each(CASES)('%s: unchanged as root and as another user', async (_name, value) => {
    expect((await host.sudo(echo(value))).stdout).toBe(value);
    expect((await host.as('nobody').exec(echo(value))).stdout).toBe(value);
  });

  it('through password sudo (sudo -S with the prompt protocol)', async () => {
    const values = CASES.map(([, v]) => v);
    const r = await pwHost.sudo(cmd`for a in ${values}; do printf '%s\\0' "$a"; done`);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(values);
    const r2 = await pwHost.as('nobody').exec(echo(HOSTILE['mixed quotes']!));
    expect(r2.stdout).toBe(HOSTILE['mixed quotes']);
  });

  it('cd, env and prefix with hostile values, inside sudo', async () => {
    const [, name] = DIR_CASES.find(([n]) => n === 'mixed quotes')!;
    const dir = `${work}/dirs/sudo ${name}`;
    await host.mkdirp(dir);
    const envValue = HOSTILE['variables']! + HOSTILE['newlines and tabs']!;
    const r = await host
      .cd(dir)
      .env({ E: envValue })
      .prefix(cmd`export P=${HOSTILE['backticks']!}`)
      .as('nobody')
      .exec(`printf '%s\\0' "$PWD" "$E" "$P" "$(id -un)"`);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual([dir, envValue, HOSTILE['backticks'], 'nobody']);
    await nothingExecuted();
  });

  it('nothing hostile was ever executed', async () => {
    await nothingExecuted();
    expect(await host.exists(`${work}/pwned-subst`)).toBe(false);
    expect(await host.exists(`${work}/pwned-tick`)).toBe(false);
  });
});

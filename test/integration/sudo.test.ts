// sudo over real SSH: passwordless sudo, as(user), context inside sudo, and
// password sudo (deploy_pw) — the password must answer sudo's prompt and go
// nowhere else: not into output, events, errors, or the command's stdin.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, cmd, secret, type Host, type HostEvent } from '../../core/index.js';
import { hostShell, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetHosts } from './fleet-targets.js';

const tag = randomBytes(4).toString('hex');
const work = `/srv/sudo-test-${tag}`;
const HOST = 'h2';
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let fleet: FleetState;
let targets: ReturnType<typeof fleetHosts>;
let host: Host;

/** A Host for the password user, recording everything it reports. */
function passwordHost(sudoPassword: string | undefined) {
  const events: HostEvent[] = [];
  const h = targets.host(HOST, {}, { ...(sudoPassword === undefined ? {} : { sudoPassword }), onEvent: (e) => events.push(e) }, fleet.passwordUser);
  return { h, events };
}

/** Everything the host reported as command output, in order. */
function outputOf(events: HostEvent[]): string {
  return events.map((e) => (e.type === 'command:output' ? e.text : '')).join('');
}

async function failure(promise: Promise<unknown>): Promise<CommandError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CommandError);
  return error as CommandError;
}

beforeAll(async () => {
  fleet = useFleet();
  targets = fleetHosts(fleet);
  host = targets.host(HOST);
  // A dir only root may enter, and one the target user `nobody` may not.
  const r = await hostShell(fleet, HOST, `mkdir -p ${work}/root-only ${work}/open && chmod 0700 ${work}/root-only && chmod 0777 ${work}/open`);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  if (fleet) await hostShell(fleet, HOST, `rm -rf ${work}`);
  await targets?.close();
});

describe('passwordless sudo (deploy: NOPASSWD)', () => {
  it('sudo runs as root, with root\'s HOME', async () => {
    const r = await host.sudo('id -u; id -un; echo "$HOME"');
    expect(r.stdout).toBe('0\nroot\n/root\n');
    expect((await host.exec('id -un')).stdout).toBe(`${fleet.user}\n`);
  });

  it('as(user) runs as that user, and as("root") as root', async () => {
    expect((await host.as('nobody').exec('id -un')).stdout).toBe('nobody\n');
    expect((await host.as('root').exec('id -u')).stdout).toBe('0\n');
    expect(await host.as('nobody', (h) => h.exec('id -un').then((r) => r.stdout))).toBe('nobody\n');
  });

  it('cd runs inside sudo: a dir only root can enter works with sudo, not without', async () => {
    const dir = `${work}/root-only`;
    const denied = await failure(host.cd(dir).exec('pwd'));
    expect(denied.stderr).toMatch(/Permission denied/);
    expect((await host.cd(dir).sudo('pwd')).stdout).toBe(`${dir}\n`);
    const asNobody = await failure(host.as('nobody').cd(dir).exec('pwd'));
    expect(asNobody.stderr).toMatch(/can't cd|Permission denied/);
    expect((await host.as('nobody').cd(`${work}/open`).exec('pwd')).stdout).toBe(`${work}/open\n`);
  });

  it('env and prefix apply as the target user, despite sudo resetting the environment', async () => {
    const value = `a b 'c' "d" $HOME \`x\``;
    const r = await host
      .cd(`${work}/open`)
      .env({ V: value, N: 7 })
      .prefix('export P="$(id -un)"')
      .as('nobody')
      .exec('printf "%s|%s|%s|%s|%s" "$V" "$N" "$P" "$(id -un)" "$PWD"');
    expect(r.stdout).toBe(`${value}|7|nobody|nobody|${work}/open`);
  });

  it('files written via sudo belong to the target user', async () => {
    await host.as('nobody').cd(`${work}/open`).exec('echo hi > by-nobody');
    await host.cd(`${work}/open`).sudo('echo hi > by-root');
    const owners = await host.exec(cmd`stat -c '%U %n' ${`${work}/open/by-nobody`} ${`${work}/open/by-root`}`);
    expect(owners.stdout).toBe(`nobody ${work}/open/by-nobody\nroot ${work}/open/by-root\n`);
  });

  it('passes stdin through sudo unchanged', async () => {
    const data = randomBytes(256 * 1024);
    expect((await host.sudo('sha256sum', { stdin: data })).stdout.split(' ')[0]).toBe(sha256(data));
  });

  it('a failing command under sudo reports the command as run, without hints about passwords', async () => {
    const error = await failure(host.sudo('echo oops >&2; exit 4'));
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('sudo -n -H -- sh -c');
    expect(error.message).toContain('oops');
    expect(error.hint).toBeUndefined();
  });

  it('with a sudoPassword configured, the password is never written: stdin holds only the caller\'s data', async () => {
    const password = `unused-pw-${tag}`;
    const events: HostEvent[] = [];
    const h = targets.host(HOST, {}, { sudoPassword: password, onEvent: (e) => events.push(e) });
    // Hashes and byte counts cannot be faked by output masking.
    const data = `caller data ${tag}\n`;
    const r = await h.sudo('id -u; wc -c; ', { stdin: data });
    expect(r.stdout.replace(/\s+/g, ' ').trim()).toBe(`0 ${Buffer.byteLength(data)}`);
    expect((await h.sudo('sha256sum', { stdin: data })).stdout.split(' ')[0]).toBe(sha256(data));
    expect((await h.sudo('wc -c')).stdout.trim()).toBe('0');
    expect((await h.as('nobody').exec('cat; id -un', { stdin: 'x' })).stdout).toBe('xnobody\n');
    expect(r.stderr).toBe('');
    expect(JSON.stringify(events)).not.toContain(password);
    expect(outputOf(events)).not.toContain('deployr-sudo');
  });
});

describe('password sudo (deploy_pw: sudo asks for its password)', () => {
  it('works with sudoPassword and never shows the password', async () => {
    const { h, events } = passwordHost(fleet.password);
    expect((await h.exec('id -un')).stdout).toBe(`${fleet.passwordUser}\n`);
    const r = await h.sudo('id -u; echo to-stderr >&2');
    expect(r.stdout).toBe('0\n');
    expect(r.stderr).toBe('to-stderr\n'); // no prompt, no protocol markers
    expect((await h.as('nobody').exec('id -un')).stdout).toBe('nobody\n');

    expect(JSON.stringify(events)).not.toContain(fleet.password);
    // The markers are in the command line (harmless); they must never reach the output.
    expect(outputOf(events)).toBe(`${fleet.passwordUser}\n0\nto-stderr\nnobody\n`);
  });

  it('every sudo asks again (timestamp_timeout=0) and each gets the password', async () => {
    const { h } = passwordHost(fleet.password);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => h.sudo(`echo ${i}; id -u`)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 5 }, (_, i) => `${i}\n0\n`));
  });

  it('the command\'s own stdin arrives intact after the password (string, Buffer, stream)', async () => {
    const { h } = passwordHost(fleet.password);
    const text = `first line\nsecond ${tag}\n`;
    expect((await h.sudo('cat', { stdin: text })).stdout).toBe(text);

    const bytes = randomBytes(512 * 1024);
    const r = await h.sudo('sha256sum; id -u', { stdin: bytes });
    expect(r.stdout).toBe(`${sha256(bytes)}  -\n0\n`);

    const streamed = await h.as('nobody').exec('cat', { stdin: Readable.from(['a', 'b', 'c\n']) });
    expect(streamed.stdout).toBe('abc\n');
    expect((await h.sudo('wc -c')).stdout.trim()).toBe('0'); // no stdin: nothing, not the password
  });

  it('a failing command reports its error without the password', async () => {
    const { h } = passwordHost(fleet.password);
    const error = await failure(h.sudo('echo "bad things" >&2; exit 6'));
    expect(error.exitCode).toBe(6);
    expect(error.stderr).toBe('bad things\n');
    expect(error.hint).toBeUndefined();
    for (const text of [error.message, error.describe(), error.command, inspect(error)]) expect(text).not.toContain(fleet.password);
    expect(error.message).toMatch(/exit code 6 on h2: sudo -S/);
    expect(error.message.split('\n').slice(1)).toEqual(['  │ bad things']); // the stderr tail, free of sudo's protocol
  });

  it('output that echoes the password is masked in callbacks and events', async () => {
    const { h, events } = passwordHost(fleet.password);
    const out: string[] = [];
    const err: string[] = [];
    const r = await h.sudo(cmd`printf '%s\\n' ${secret(fleet.password)}; printf '%s' ${secret(fleet.password)} >&2`, {
      onStdout: (t) => out.push(t),
      onStderr: (t) => err.push(t),
    });
    expect(out.join('')).toBe('***\n');
    expect(err.join('')).toBe('***');
    expect(outputOf(events)).toBe('***\n***');
    // ExecResult.stdout/stderr are returned unmasked, as the command produced them (the caller's data).
    expect(r.code).toBe(0);
  });

  it('a wrong password fails quickly with the "refused the password" hint; the command never runs', async () => {
    const wrong = `wrong-${tag}`;
    const { h, events } = passwordHost(wrong);
    const marker = `${work}/open/ran-${tag}`;
    const started = Date.now();
    const error = await failure(h.sudo(cmd`cat > ${marker}`, { stdin: 'data', timeout: 20_000 }));
    expect(Date.now() - started).toBeLessThan(15_000); // no hang waiting for a second password
    expect(error.timedOut).toBe(false);
    expect(error.hint).toMatch(/refused the password/);
    expect(error.exitCode).not.toBe(0);
    for (const text of [error.message, error.describe(), error.stderr, JSON.stringify(events)]) expect(text).not.toContain(wrong);
    expect(error.stderr).toMatch(/incorrect password/);
    expect(error.stderr).not.toContain('deployr-sudo');
    expect(outputOf(events)).not.toContain('deployr-sudo');
    expect((await hostShell(fleet, HOST, `test -e ${marker} && echo exists || echo absent`)).stdout.trim()).toBe('absent');
  });

  it('without a sudoPassword, fails at once with the hint about sudoPassword/NOPASSWD', async () => {
    const { h } = passwordHost(undefined);
    const started = Date.now();
    const error = await failure(h.sudo('id -u', { timeout: 20_000 }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.timedOut).toBe(false);
    expect(error.stderr).toMatch(/password is required/);
    expect(error.hint).toMatch(/sudoPassword/);
    expect(error.hint).toMatch(/NOPASSWD/);
    const asUser = await failure(h.as('nobody').exec('id -un'));
    expect(asUser.hint).toMatch(/sudoPassword/);
  });
});

describe('timeouts under sudo', () => {
  // sshd signals with the login user's rights, so it cannot stop what sudo runs
  // as root or another user. Host finds those by their DEPLOYR_CMD tag instead
  // and kills them through the same sudo context.

  /** What is left on the host matching the anchored pattern, polled for up to a second. */
  async function leftOver(pattern: string): Promise<string> {
    let left = '';
    for (let i = 0; i < 10; i += 1) {
      left = (await hostShell(fleet, HOST, `pgrep -af '${pattern}' || true`)).stdout.trim();
      if (!left) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return left;
  }

  it('a timed-out sudo command is gone from the host afterwards', async () => {
    const n = Math.floor(Math.random() * 1e6);
    const pattern = `^sleep 979\\.${n}$`; // anchored: cannot match the shell running pgrep
    try {
      const started = Date.now();
      const error = await failure(host.sudo(`sleep 979.${n}`, { timeout: 300 }));
      expect(error.timedOut).toBe(true);
      expect(error.aborted).toBe(false);
      expect(Date.now() - started).toBeLessThan(10_000); // the CommandError itself does come, in bounded time
      expect(await leftOver(pattern)).toBe('');
    } finally {
      await hostShell(fleet, HOST, `pkill -KILL -f '${pattern}' || true`);
    }
  });

  it('a timed-out pipeline as another user leaves nothing behind, not even what the script would run next', async () => {
    const n = Math.floor(Math.random() * 1e6);
    const pattern = `^sleep 97[78]\\.${n}$`;
    const marker = `${work}/open/after-${n}`;
    try {
      const running = host
        .as('nobody')
        .exec(`sleep 978.${n} | cat; sleep 977.${n}; touch ${marker}`, { timeout: 1_500 })
        .catch((e: unknown) => e);
      let seen = '';
      for (let i = 0; i < 20 && !seen; i += 1) seen = (await hostShell(fleet, HOST, `pgrep -u nobody -af '^sleep 978\\.${n}$' || true`)).stdout.trim();
      expect(seen).not.toBe(''); // it really ran as nobody before the timeout
      const error = (await running) as CommandError;
      expect(error).toBeInstanceOf(CommandError);
      expect(error).toMatchObject({ timedOut: true, aborted: false });
      expect(await leftOver(pattern)).toBe('');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await leftOver(pattern)).toBe('');
      expect((await hostShell(fleet, HOST, `test -e ${marker} && echo ran || echo stopped`)).stdout).toBe('stopped\n');
    } finally {
      await hostShell(fleet, HOST, `pkill -KILL -f '${pattern}' || true`);
    }
  });

  it('an aborted sudo command is gone too, and the error says aborted', async () => {
    const n = Math.floor(Math.random() * 1e6);
    const pattern = `^sleep 976\\.${n}$`;
    const controller = new AbortController();
    try {
      const running = host.sudo(`echo started; sleep 976.${n}`, {
        signal: controller.signal,
        onStdout: (text) => text.includes('started') && controller.abort(),
      });
      const error = await failure(running);
      expect(error).toMatchObject({ aborted: true, timedOut: false, stdout: 'started\n' });
      expect(error.command).toBe(`sudo -n -H -- sh -c 'echo started; sleep 976.${n}'`);
      expect(await leftOver(pattern)).toBe('');
    } finally {
      await hostShell(fleet, HOST, `pkill -KILL -f '${pattern}' || true`);
    }
  });

  it('with password sudo, a timed-out command is killed through sudo with the password', async () => {
    const n = Math.floor(Math.random() * 1e6);
    const pattern = `^sleep 975\\.${n}$`;
    const { h, events } = passwordHost(fleet.password);
    try {
      const started = Date.now();
      const error = await failure(h.sudo(`sleep 975.${n}`, { timeout: 1_000 }));
      expect(error).toMatchObject({ timedOut: true, aborted: false });
      expect(error.command).toBe(`sudo -S -H -- sh -c 'sleep 975.${n}'`);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await leftOver(pattern)).toBe('');
      // The sweeps are plumbing: the events show the one command, never the password.
      expect(events.flatMap((e) => (e.type === 'command:start' ? [e.command] : []))).toEqual([`sudo -S -H -- sh -c 'sleep 975.${n}'`]);
      expect(JSON.stringify(events)).not.toContain(fleet.password);
    } finally {
      await hostShell(fleet, HOST, `pkill -KILL -f '${pattern}' || true`);
    }
  });
});

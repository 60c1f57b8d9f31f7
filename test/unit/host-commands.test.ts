// The exact command lines Host builds, read back from a RecordingConnection
// (Kamal style, STYLE.md habit 13): what is logged (display), and where the
// hidden plumbing matters, what would run (render). Behaviour on a real shell
// is covered in test/local/ and against the sshd fleet; here a changed string
// is a review item.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cmd, quote, secret, type Command } from '../../core/command/index.js';
import {
  Host,
  RecordingConnection,
  type Connection,
  type HostEvent,
  type TransportExecOptions,
  type TransportExecResult,
} from '../../core/connection/index.js';
import { CommandError, ConnectionError } from '../../core/errors.js';

let connection: RecordingConnection;
let host: Host;

/** A v4 UUID, as a regular expression source: the tag every command carries. */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

/** The DEPLOYR_CMD value in a rendered command line. */
function tagOf(line: string): string {
  const tag = new RegExp(`DEPLOYR_CMD=(${UUID})`).exec(line)?.[1];
  expect(tag, line).toBeDefined();
  return tag as string;
}

/** The kill sweep Host runs for the command tagged `tag` (process-tag.ts), as logged. */
function sweepOf(tag: string): string {
  return `grep -lzxF DEPLOYR_CMD=${tag} /proc/[0-9]*/environ 2>/dev/null | sed -n 's#^/proc/\\([0-9]*\\)/environ$#\\1#p' | xargs -r kill -KILL 2>/dev/null; true`;
}

/** A RecordingConnection that also keeps what would really run (render()), hidden parts included. */
class WireConnection extends RecordingConnection {
  readonly rendered: string[] = [];

  override exec(command: Command, options?: TransportExecOptions): Promise<TransportExecResult> {
    this.rendered.push(command.render());
    return super.exec(command, options);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A transport that behaves like the real ones around a stop: a command with
 * "sleep" in it runs until its AbortSignal fires, then ends as aborted;
 * everything else ends at once with code 0. With `queue`, nothing ever gets
 * a channel: every command waits until its signal fires and ends as never
 * started. Logs what happens, masked, in order.
 */
class StoppableConnection implements Connection {
  readonly kind = 'recording' as const;
  readonly log: string[] = [];
  readonly rendered: string[] = [];
  readonly options: TransportExecOptions[] = [];
  pending = 0;

  constructor(
    readonly name = 'web-1',
    private readonly queue = false,
  ) {}

  async exec(command: Command, options: TransportExecOptions = {}): Promise<TransportExecResult> {
    const shown = command.display();
    this.options.push(options);
    if (options.signal?.aborted) {
      this.log.push(`not started: ${shown}`);
      return { stdout: EMPTY, stderr: EMPTY, code: null, signal: null, timedOut: false, aborted: true, started: false };
    }
    if (this.queue) {
      this.log.push(`queued: ${shown}`);
      this.pending += 1;
      await new Promise((resolve) => options.signal?.addEventListener('abort', resolve, { once: true }));
      this.pending -= 1;
      this.log.push(`gave up waiting: ${shown}`);
      return { stdout: EMPTY, stderr: EMPTY, code: null, signal: null, timedOut: false, aborted: true, started: false };
    }
    this.log.push(`start: ${shown}`);
    this.rendered.push(command.render());
    if (shown.includes('sleep')) {
      this.pending += 1;
      await new Promise((resolve) => options.signal?.addEventListener('abort', resolve, { once: true }));
      this.pending -= 1;
      this.log.push(`killed: ${shown}`);
      return { stdout: EMPTY, stderr: EMPTY, code: null, signal: 'SIGKILL', timedOut: false, aborted: true };
    }
    this.log.push(`end: ${shown}`);
    return { stdout: EMPTY, stderr: EMPTY, code: 0, signal: null, timedOut: false, aborted: false };
  }

  async put(): Promise<void> {}
  async get(): Promise<void> {}
  async close(): Promise<void> {}
}

beforeEach(() => {
  connection = new RecordingConnection('web-1');
  host = new Host(connection);
});

/** Runs one command through `target` and returns the line the connection saw. */
async function commandOf(target: Host, input: Parameters<Host['exec']>[0] = 'ls'): Promise<string> {
  const before = connection.commands.length;
  await target.exec(input);
  expect(connection.commands.length).toBe(before + 1);
  return connection.commands[before] as string;
}

describe('exec', () => {
  it('passes a literal script through unchanged', async () => {
    expect(await commandOf(host, 'uptime')).toBe('uptime');
    expect(await commandOf(host, 'ls *.log | wc -l')).toBe('ls *.log | wc -l');
  });

  it('quotes values built with cmd``', async () => {
    expect(await commandOf(host, cmd`ls -la ${'/srv/my app'} ${['a', "b'c"]}`)).toBe(`ls -la '/srv/my app' a 'b'\\''c'`);
  });

  it('records whether stdin was given', async () => {
    await host.exec('cat', { stdin: 'data' });
    await host.exec('true');
    expect(connection.calls).toEqual([
      { type: 'exec', command: 'cat', stdin: true },
      { type: 'exec', command: 'true', stdin: false },
    ]);
  });

  it('returns the scripted output', async () => {
    connection.respond('hostname', { stdout: 'web-1\n' });
    const result = await host.exec('hostname');
    expect(result).toMatchObject({ stdout: 'web-1\n', stderr: '', code: 0, signal: null, ok: true });
  });

  it('throws CommandError on a non-zero exit, or returns it with nothrow', async () => {
    connection.respond('false', { code: 3, stderr: 'nope\n' });
    await expect(host.exec('false')).rejects.toMatchObject({ name: 'CommandError', exitCode: 3, host: 'web-1', command: 'false' });
    await expect(host.exec('false', { nothrow: true })).resolves.toMatchObject({ ok: false, code: 3, stderr: 'nope\n' });
  });

  it('reports each command as start/end events with the masked line', async () => {
    const events: HostEvent[] = [];
    const observed = new Host(connection, { onEvent: (event) => events.push(event) });
    await observed.cd('/srv').exec(cmd`login ${secret('pw')}`);
    expect(events.map((event) => event.type)).toEqual(['command:start', 'command:end']);
    expect(events[0]).toMatchObject({ type: 'command:start', host: 'web-1', command: 'cd /srv && login ***' });
    expect(JSON.stringify(events)).not.toContain('DEPLOYR_CMD'); // the process tag is plumbing, not logged
    expect(events[1]).toMatchObject({ type: 'command:end', code: 0, signal: null });
    expect((events[0] as { id: string }).id).toBe((events[1] as { id: string }).id);
  });

  it('ends every started command with command:end, also when the transport throws', async () => {
    const lost = new ConnectionError('web-1: the SSH connection to web-1:22 was lost', { host: 'web-1' });
    const failing = new RecordingConnection('web-1');
    failing.exec = async () => {
      throw lost;
    };
    const events: HostEvent[] = [];
    await expect(new Host(failing, { onEvent: (event) => events.push(event) }).exec('uptime')).rejects.toBe(lost);
    expect(events.map((event) => event.type)).toEqual(['command:start', 'command:end']);
    expect(events[1]).toMatchObject({ type: 'command:end', host: 'web-1', code: null, signal: null });
    expect((events[0] as { id: string }).id).toBe((events[1] as { id: string }).id);
  });

  it('quiet: raises no output events, while callbacks, start/end and the result still get the output', async () => {
    connection.respond('cat', { stdout: 'file contents\n', stderr: 'a warning\n' });
    const events: HostEvent[] = [];
    const observed = new Host(connection, { onEvent: (event) => events.push(event) });
    const streamed: string[] = [];
    const result = await observed.exec('cat /etc/app.env', { quiet: true, onStdout: (text) => streamed.push(text) });
    expect(result).toMatchObject({ stdout: 'file contents\n', stderr: 'a warning\n' });
    expect(streamed).toEqual(['file contents\n']);
    expect(events.map((event) => event.type)).toEqual(['command:start', 'command:end']);
    // Without quiet, the same command reports its output.
    events.length = 0;
    await observed.exec('cat /etc/app.env');
    expect(events.map((event) => event.type)).toEqual(['command:start', 'command:output', 'command:output', 'command:end']);
  });

  it('readFile keeps the file out of the event stream (an .env must not reach logs)', async () => {
    connection.respond('cat', { stdout: 'DB_PASSWORD=hunter3\n' });
    const events: HostEvent[] = [];
    const observed = new Host(connection, { onEvent: (event) => events.push(event) });
    expect(await observed.readFile('/srv/app/.env')).toBe('DB_PASSWORD=hunter3\n');
    expect(events.map((event) => event.type)).toEqual(['command:start', 'command:end']);
    expect(JSON.stringify(events)).not.toContain('hunter3');
  });
});

describe('cd', () => {
  it('runs the command in the directory', async () => {
    expect(await commandOf(host.cd('/srv/app'))).toBe('cd /srv/app && ls');
  });

  it('joins nested relative directories', async () => {
    const nested = host.cd('/srv').cd('app').cd('releases/42');
    expect(nested.cwd).toBe('/srv/app/releases/42');
    expect(await commandOf(nested)).toBe('cd /srv/app/releases/42 && ls');
  });

  it('resolves .. against the current directory', async () => {
    expect(await commandOf(host.cd('/srv/app').cd('../shared'))).toBe('cd /srv/shared && ls');
  });

  it('starts over at an absolute path', async () => {
    expect(await commandOf(host.cd('/srv/app').cd('/opt'))).toBe('cd /opt && ls');
  });

  it('keeps a leading ~/ unquoted so the shell expands it', async () => {
    expect(await commandOf(host.cd('/srv').cd('~/app'))).toBe('cd ~/app && ls');
    expect(await commandOf(host.cd('~/my app'))).toBe(`cd ~/'my app' && ls`);
    expect(await commandOf(host.cd('~').cd('app'))).toBe('cd ~/app && ls');
    expect(await commandOf(host.cd('~'))).toBe('cd ~ && ls');
  });

  it('quotes a directory that needs it', async () => {
    expect(await commandOf(host.cd("/srv/it's here"))).toBe(`cd '/srv/it'\\''s here' && ls`);
    expect(await commandOf(host.cd('/srv/$(reboot)'))).toBe(`cd '/srv/$(reboot)' && ls`);
  });

  it('keeps a directory that starts with a dash from reading as an option', async () => {
    expect(await commandOf(host.cd('-rf'))).toBe('cd ./-rf && ls');
    expect(await commandOf(host.cd('-'))).toBe('cd ./- && ls');
  });

  it('keeps a relative first directory relative', async () => {
    expect(await commandOf(host.cd('app'))).toBe('cd app && ls');
  });
});

describe('env', () => {
  it('exports the variables before the command', async () => {
    expect(await commandOf(host.env({ NODE_ENV: 'production', PORT: 3000, DEBUG: false }))).toBe(
      'export NODE_ENV=production PORT=3000 DEBUG=false && ls',
    );
  });

  it('quotes values', async () => {
    expect(await commandOf(host.env({ MSG: "it's $HOME" }))).toBe(`export MSG='it'\\''s $HOME' && ls`);
    expect(await commandOf(host.env({ EMPTY: '' }))).toBe(`export EMPTY='' && ls`);
  });

  it('merges nested env calls, the later value winning', async () => {
    expect(await commandOf(host.env({ A: '1', B: '2' }).env({ B: '3', C: '4' }))).toBe('export A=1 B=3 C=4 && ls');
  });

  it('masks a secret value', async () => {
    expect(await commandOf(host.env({ TOKEN: secret('t0k3n') }))).toBe('export TOKEN=*** && ls');
  });

  it.each(['BAD-NAME', '1ABC', 'A B', '', 'A;reboot', 'A=B'])('rejects the invalid name %j at env(), synchronously, running nothing', async (name) => {
    // Thrown by env() itself, not by a later exec(): the stack points at the mistake.
    expect(() => host.env({ [name]: 'x' })).toThrow(TypeError);
    expect(() => host.env({ [name]: 'x' })).toThrow(`"${name}" is not a valid environment variable name`);
    expect(() => host.env({ GOOD: '1', [name]: 'x' })).toThrow(TypeError); // one bad name among good ones is enough
    expect(() => host.env({ A: '1' }).env({ [name]: 'x' })).toThrow(TypeError); // also when merging into an existing env
    // The callback form throws before calling the callback.
    let called = false;
    expect(() =>
      host.env({ [name]: 'x' }, async () => {
        called = true;
      }),
    ).toThrow(TypeError);
    expect(called).toBe(false);
    expect(connection.commands).toEqual([]);
  });

  it('accepts names with underscores and digits', async () => {
    expect(await commandOf(host.env({ _X1: 'a', lower_case: 'b' }))).toBe('export _X1=a lower_case=b && ls');
  });
});

describe('prefix', () => {
  it('runs the prefix first', async () => {
    expect(await commandOf(host.prefix('source venv/bin/activate'), 'pip install -r requirements.txt')).toBe(
      'source venv/bin/activate && pip install -r requirements.txt',
    );
  });

  it('keeps several prefixes in the order they were added', async () => {
    expect(await commandOf(host.prefix('. ~/.nvm/nvm.sh').prefix(cmd`nvm use ${'20'}`), 'npm ci')).toBe('. ~/.nvm/nvm.sh && nvm use 20 && npm ci');
  });

  it('quotes values in a cmd`` prefix', async () => {
    expect(await commandOf(host.prefix(cmd`. ${'/srv/my env/activate'}`))).toBe(`. '/srv/my env/activate' && ls`);
  });
});

describe('combined context', () => {
  it('exports env first, then cd, then prefixes, then the command, whatever the call order', async () => {
    const combined = host.prefix('p1').cd('/srv').env({ A: '1' }).prefix('p2').cd('app').env({ B: '2' });
    expect(await commandOf(combined, 'run')).toBe('export A=1 B=2 && cd /srv/app && p1 && p2 && run');
  });

  it('puts the whole context inside sudo, so env survives sudo env_reset', async () => {
    const combined = host.cd('/srv/app').env({ A: '1' }).prefix('p1');
    await combined.sudo('run');
    expect(connection.commands).toEqual([`sudo -n -H -- sh -c 'export A=1 && cd /srv/app && p1 && run'`]);
  });
});

describe('sudo and as', () => {
  it('sudo() runs one command as root, never waiting for a password', async () => {
    await host.sudo('apt-get update');
    expect(connection.commands).toEqual([`sudo -n -H -- sh -c 'apt-get update'`]);
  });

  it('as(user) runs every command as that user', async () => {
    const www = host.as('www-data');
    await www.exec('whoami');
    await www.exec(cmd`touch ${'/srv/a b'}`);
    expect(connection.commands).toEqual([
      'sudo -n -H -u www-data -- sh -c whoami',
      `sudo -n -H -u www-data -- sh -c 'touch '\\''/srv/a b'\\'''`,
    ]);
  });

  it("as('root') needs no -u", async () => {
    expect(await commandOf(host.as('root'), 'whoami')).toBe('sudo -n -H -- sh -c whoami');
  });

  it('quotes an odd user name', async () => {
    expect(await commandOf(host.as('odd user'), 'whoami')).toBe(`sudo -n -H -u 'odd user' -- sh -c whoami`);
  });

  it('sudo() on an as() host runs as root', async () => {
    await host.as('www-data').sudo('whoami');
    expect(connection.commands).toEqual(['sudo -n -H -- sh -c whoami']);
  });

  it('hints at sudoPassword when sudo -n wants a password', async () => {
    connection.respond('sudo', { code: 1, stderr: 'sudo: a password is required\n' });
    const error = (await host.sudo('whoami').catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.hint).toMatch(/set sudoPassword for this host/);
  });

  it('with a sudo password, answers a random prompt and marks the start of the command', async () => {
    const wire = new WireConnection('web-1');
    const withPassword = new Host(wire, { sudoPassword: 'pw' });
    await withPassword.as('deploy').exec('whoami');
    await withPassword.sudo('whoami');
    const [first, second] = wire.rendered as [string, string];
    // What runs: a random prompt (-p), the tag for the kill sweep (env DEPLOYR_CMD=…), and a ready marker with the same token.
    const shape = (user: string): RegExp =>
      new RegExp(
        String.raw`^sudo -S -H -p '\[deployr-sudo-prompt:([0-9a-f]{16})\]' ${user}-- env DEPLOYR_CMD=${UUID} sh -c ` +
          String.raw`'printf '\\''%s\\n'\\'' '\\''\[deployr-sudo-ready:\1\]'\\'' >&2; whoami'$`,
      );
    expect(first).toMatch(shape('-u deploy '));
    expect(second).toMatch(shape(''));
    // A fresh marker for every command: output of one cannot fake the next one's prompt.
    expect(first.match(/prompt:([0-9a-f]+)/)?.[1]).not.toBe(second.match(/prompt:([0-9a-f]+)/)?.[1]);
    // ...and a fresh tag.
    expect(tagOf(first)).not.toBe(tagOf(second));
    // What is logged: the plumbing (prompt flag, tag, ready printf) is left out.
    expect(wire.commands).toEqual(['sudo -S -H -u deploy -- sh -c whoami', 'sudo -S -H -- sh -c whoami']);
    expect([...wire.rendered, ...wire.commands].join('\n')).not.toContain('pw\n');
  });
});

describe('files', () => {
  it('readFile cats the file and returns its text', async () => {
    connection.respond('cat -- /etc/hostname', { stdout: 'web-1\n' });
    expect(await host.readFile('/etc/hostname')).toBe('web-1\n');
    await host.readFile('~/.bashrc');
    await host.readFile('/srv/my file');
    await host.readFile('-weird');
    expect(connection.commands).toEqual(['cat -- /etc/hostname', 'cat -- ~/.bashrc', `cat -- '/srv/my file'`, 'cat -- -weird']);
  });

  it('writeFile writes a private temporary file, sets its mode, then renames it over the target', async () => {
    await host.writeFile('/etc/app.conf', 'key=value\n');
    expect(connection.calls).toHaveLength(1);
    expect(connection.calls[0]).toMatchObject({ type: 'exec', stdin: true });
    const [line] = connection.commands as [string];
    const temp = /\/etc\/app\.conf\.deployr-[0-9a-f]{8}/.exec(line)?.[0];
    expect(temp).toBeDefined();
    // umask 077 first: nobody else can read the temp file between cat and chmod.
    // Without a mode: the existing file's mode (of what a symlink points to), else 644, decided on the host.
    expect(line).toBe(
      `umask 077 && mode=$(if test -e /etc/app.conf; then stat -L -c %a /etc/app.conf; else echo 644; fi) && ` +
        `cat > ${temp} && chmod "$mode" ${temp} && mv -f ${temp} /etc/app.conf`,
    );
  });

  it('writeFile sets the requested mode, and then asks the host for none', async () => {
    await host.writeFile('/etc/secret.env', 'x', { mode: 0o600 });
    await host.writeFile('/usr/local/bin/tool', 'x', { mode: 0o4755 });
    await host.writeFile('/srv/public.txt', 'x', { mode: 0o644 });
    const temp = /\/etc\/secret\.env\.deployr-[0-9a-f]{8}/.exec(connection.commands[0] as string)?.[0];
    expect(connection.commands[0]).toBe(`umask 077 && cat > ${temp} && chmod 600 ${temp} && mv -f ${temp} /etc/secret.env`);
    expect(connection.commands[1]).toMatch(/ && chmod 4755 \/usr\/local\/bin\/tool\.deployr-[0-9a-f]{8} && /);
    expect(connection.commands[2]).toMatch(/ && chmod 644 \/srv\/public\.txt\.deployr-[0-9a-f]{8} && /);
    expect(connection.commands.join('\n')).not.toContain('stat');
  });

  it('writeFile quotes the path and keeps ~/ expandable', async () => {
    await host.writeFile('~/my app/.env', 'x');
    expect(connection.commands[0]).toMatch(
      /^umask 077 && mode=\$\(if test -e ~\/'my app\/\.env'; then stat -L -c %a ~\/'my app\/\.env'; else echo 644; fi\) && cat > ~\/'my app\/\.env\.deployr-([0-9a-f]{8})' && chmod "\$mode" ~\/'my app\/\.env\.deployr-\1' && mv -f ~\/'my app\/\.env\.deployr-\1' ~\/'my app\/\.env'$/,
    );
  });

  it('writeFile keeps a relative path starting with a dash from reading as an option', async () => {
    await host.writeFile('-rf', 'x', { mode: 0o600 });
    expect(connection.commands[0]).toMatch(/^umask 077 && cat > \.\/-rf\.deployr-([0-9a-f]{8}) && chmod 600 \.\/-rf\.deployr-\1 && mv -f \.\/-rf\.deployr-\1 \.\/-rf$/);
  });

  it('writeFile uses a fresh temporary name every time', async () => {
    await host.writeFile('/tmp/a', 'x');
    await host.writeFile('/tmp/a', 'y');
    const temps = connection.commands.map((line) => /deployr-([0-9a-f]{8})/.exec(line)?.[1]);
    expect(temps[0]).not.toBe(temps[1]);
  });

  it('writeFile removes the temporary file when writing fails', async () => {
    connection.respond('cat >', { code: 1, stderr: 'cat: write error: No space left on device\n' });
    await expect(host.writeFile('/srv/app.conf', 'x')).rejects.toBeInstanceOf(CommandError);
    expect(connection.commands).toHaveLength(2);
    const temp = /\/srv\/app\.conf\.deployr-[0-9a-f]{8}/.exec(connection.commands[0] as string)?.[0];
    expect(connection.commands[1]).toBe(`rm -f ${temp}`);
  });

  it('writeFile keeps the original error when removing the temporary file fails too, and bounds that clean-up', async () => {
    // The write fails; the clean-up then meets a lost connection: the write's error is the one reported.
    const lost = new RecordingConnection('web-1');
    lost.respond('cat >', { code: 1, stderr: 'cat: write error: No space left on device\n' });
    const plainExec = lost.exec.bind(lost);
    lost.exec = async (command, options) => {
      if (command.display().startsWith('rm -f')) throw new ConnectionError('web-1: the SSH connection was lost', { host: 'web-1' });
      return plainExec(command, options);
    };
    const error = await new Host(lost).writeFile('/srv/app.conf', 'x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toContain('No space left on device');

    // The clean-up never ends (a connection that answers nothing): the write's error still comes, after a bounded wait.
    const hung = new StoppableConnection();
    const stalled = new (class extends StoppableConnection {
      override async exec(command: Command, options: TransportExecOptions = {}): Promise<TransportExecResult> {
        if (command.display().includes('cat >')) return { stdout: EMPTY, stderr: Buffer.from('disk full\n'), code: 1, signal: null, timedOut: false, aborted: false };
        if (command.display().startsWith('rm -f')) return hung.exec(cmd`sleep forever`, options); // ends only when its signal fires
        return super.exec(command, options);
      }
    })();
    vi.useFakeTimers();
    try {
      const failed = new Host(stalled).writeFile('/srv/app.conf', 'x').catch((caught: unknown) => caught);
      await vi.advanceTimersByTimeAsync(30_000);
      const original = await failed;
      expect(original).toBeInstanceOf(CommandError);
      expect(original).toMatchObject({ exitCode: 1, timedOut: false });
      expect(hung.log).toEqual(['start: sleep forever', 'killed: sleep forever']); // the clean-up ran, and was stopped
    } finally {
      vi.useRealTimers();
    }
  });

  it('writeFile through cd and as() runs inside both', async () => {
    await host.as('www-data').cd('/srv/app').writeFile('.env', 'x');
    expect(connection.commands[0]).toMatch(
      /^sudo -n -H -u www-data -- sh -c 'cd \/srv\/app && \{ umask 077 && mode=\$\(if test -e \.env; then stat -L -c %a \.env; else echo 644; fi\) && cat > \.env\.deployr-([0-9a-f]{8}) && chmod "\$mode" \.env\.deployr-\1 && mv -f \.env\.deployr-\1 \.env; \}'$/,
    );
  });

  it('exists tests the path and never throws for a missing one', async () => {
    connection.respond('test -e /missing', { code: 1 });
    expect(await host.exists('/srv')).toBe(true);
    expect(await host.exists('/missing')).toBe(false);
    expect(await host.exists('~/my dir')).toBe(true);
    expect(connection.commands).toEqual(['test -e /srv', 'test -e /missing', `test -e ~/'my dir'`]);
  });

  it('which asks the shell, returning the path or null', async () => {
    connection.respond('command -v git', { stdout: '/usr/bin/git\n' }).respond('command -v nope', { code: 1 });
    expect(await host.which('git')).toBe('/usr/bin/git');
    expect(await host.which('nope')).toBeNull();
    expect(await host.which('empty')).toBeNull(); // exit 0 with no output is not a program
    expect(connection.commands).toEqual(['command -v git', 'command -v nope', 'command -v empty']);
  });

  it('mkdirp makes parents and stops option parsing', async () => {
    await host.mkdirp('/srv/app/shared');
    await host.mkdirp('~/app');
    await host.mkdirp('-odd');
    expect(connection.commands).toEqual(['mkdir -p -- /srv/app/shared', 'mkdir -p -- ~/app', 'mkdir -p -- -odd']);
  });

  it('put and get go to the connection as they are without cd()', async () => {
    await host.put('./dist/app.tar', '/srv/app.tar', { mode: 0o600 });
    await host.get('/var/log/app.log', './app.log');
    await host.put('./a', 'relative/a'); // relative to the login dir: the transport's business
    await host.put('./b', '~/b');
    expect(connection.calls).toEqual([
      { type: 'put', from: './dist/app.tar', to: '/srv/app.tar', mode: 0o600 },
      { type: 'get', from: '/var/log/app.log', to: './app.log' },
      { type: 'put', from: './a', to: 'relative/a' },
      { type: 'put', from: './b', to: '~/b' },
    ]);
  });

  it('put and get resolve a relative remote path against cd(); absolute and ~ paths stay as they are', async () => {
    const app = host.cd('/srv/app');
    await app.put('./dist/app.tar', 'releases/app.tar');
    await app.cd('shared').get('../current/log.txt', './log.txt');
    await app.put('./x', '/etc/x');
    await app.put('./y', '~/y');
    await app.get('~deploy/z', './z'); // ~user is left for the transport to accept or refuse
    await host.cd('~/app').put('./w', 'w');
    // The local path is never touched: it is relative to this machine's cwd.
    expect(connection.calls).toEqual([
      { type: 'put', from: './dist/app.tar', to: '/srv/app/releases/app.tar' },
      { type: 'get', from: '/srv/app/current/log.txt', to: './log.txt' },
      { type: 'put', from: './x', to: '/etc/x' },
      { type: 'put', from: './y', to: '~/y' },
      { type: 'get', from: '~deploy/z', to: './z' },
      { type: 'put', from: './w', to: '~/app/w' },
    ]);
  });

  describe('putDir', () => {
    let dir: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'deployr-putdir-cmd-'));
      await writeFile(join(dir, 'index.html'), '<h1>hi</h1>');
    });

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('pipes a tar stream into mkdir + tar -x', async () => {
      // The counts are not checked here: a recording answers before the tar stream is drained.
      await host.putDir(dir, '/srv/my site');
      expect(connection.calls).toEqual([
        { type: 'exec', command: `mkdir -p -- '/srv/my site' && tar -x -p --no-same-owner -f - -C '/srv/my site'`, stdin: true },
      ]);
    });

    it('refuses a local path that is not a directory, running nothing', async () => {
      await expect(host.putDir(join(dir, 'index.html'), '/srv/site')).rejects.toMatchObject({ name: 'TransferError', host: 'web-1' });
      expect(connection.calls).toEqual([]);
    });
  });
});

describe('grouping a script behind cd/env/prefix', () => {
  // `cd dir && a; b` would run b even when cd failed: scripts that could escape
  // the && chain are grouped. Plain commands stay unwrapped, for readable logs.
  it('leaves a plain command, a pipeline and an && chain unwrapped', async () => {
    const app = host.cd('/srv/app');
    expect(await commandOf(app, 'ls')).toBe('cd /srv/app && ls');
    expect(await commandOf(app, 'ls *.log | wc -l')).toBe('cd /srv/app && ls *.log | wc -l');
    expect(await commandOf(app, 'make && make install')).toBe('cd /srv/app && make && make install');
    expect(await commandOf(app, 'echo a#b ${#x}')).toBe('cd /srv/app && echo a#b ${#x}'); // a # inside a word is no comment
  });

  it('groups a script with ; or || as { script; }', async () => {
    const app = host.cd('/srv/app');
    expect(await commandOf(app, 'echo a; echo b')).toBe('cd /srv/app && { echo a; echo b; }');
    expect(await commandOf(app, 'test -f x || touch x')).toBe('cd /srv/app && { test -f x || touch x; }');
    expect(await commandOf(app, 'sleep 1 & wait')).toBe('cd /srv/app && { sleep 1 & wait; }');
  });

  it('closes the group on a new line after a comment or a trailing &', async () => {
    const app = host.cd('/srv/app');
    expect(await commandOf(app, 'ls # list it')).toBe('cd /srv/app && { ls # list it\n}');
    expect(await commandOf(app, '#!/bin/sh\nls')).toBe('cd /srv/app && { #!/bin/sh\nls\n}');
    expect(await commandOf(app, 'server --port 80 &')).toBe('cd /srv/app && { server --port 80 &\n}');
  });

  it('closes the group on a new line when `; }` would be a syntax error', async () => {
    // Each of these with `; }` appended is rejected by sh: `\n; }`, `EOF; }` (no end of the here-document), `;; }`.
    const app = host.cd('/srv/app');
    expect(await commandOf(app, 'echo a\necho b')).toBe('cd /srv/app && { echo a\necho b\n}');
    expect(await commandOf(app, '\n  npm ci\n  npm run build\n')).toBe('cd /srv/app && { \n  npm ci\n  npm run build\n\n}');
    expect(await commandOf(app, 'cat > .env <<EOF\nA=1\nEOF')).toBe('cd /srv/app && { cat > .env <<EOF\nA=1\nEOF\n}');
    expect(await commandOf(app, 'echo a; echo b;')).toBe('cd /srv/app && { echo a; echo b;\n}');
    expect(await commandOf(app, 'echo a; ')).toBe('cd /srv/app && { echo a; \n}');
  });

  it('groups behind env and prefix too, and each prefix on its own', async () => {
    expect(await commandOf(host.env({ A: '1' }), 'a; b')).toBe('export A=1 && { a; b; }');
    expect(await commandOf(host.prefix('a; b'), 'c')).toBe('{ a; b; } && c');
    expect(await commandOf(host.cd('/srv').prefix('. venv/bin/activate').prefix('set -e; umask 022'), 'x; y')).toBe(
      'cd /srv && . venv/bin/activate && { set -e; umask 022; } && { x; y; }',
    );
  });

  it('groups inside sudo, and not at all without context', async () => {
    await host.cd('/srv').sudo('a; b');
    await host.exec('a; b');
    await host.sudo('a; b');
    expect(connection.commands).toEqual([`sudo -n -H -- sh -c 'cd /srv && { a; b; }'`, 'a; b', `sudo -n -H -- sh -c 'a; b'`]);
  });
});

describe('process tag', () => {
  it('runs every command as `export DEPLOYR_CMD=<uuid>; …`, logged without it', async () => {
    const wire = new WireConnection('web-1');
    const events: HostEvent[] = [];
    const tagged = new Host(wire, { onEvent: (event) => events.push(event) });
    await tagged.exec('uptime');
    await tagged.cd('/srv').exec(cmd`login ${secret('pw')}`);
    const [first, second] = wire.rendered as [string, string];
    expect(first).toMatch(new RegExp(`^export DEPLOYR_CMD=${UUID}; uptime$`));
    expect(second).toMatch(new RegExp(`^export DEPLOYR_CMD=${UUID}; cd /srv && login pw$`));
    expect(tagOf(first)).not.toBe(tagOf(second)); // one tag per command
    // Concealed: absent from what is logged, in the connection's record and in the events.
    expect(wire.commands).toEqual(['uptime', 'cd /srv && login ***']);
    expect(JSON.stringify(events)).not.toContain('DEPLOYR_CMD');
  });

  it('under sudo, hands the tag to the shell after sudo with env, logged as plain sudo', async () => {
    const wire = new WireConnection('web-1');
    const tagged = new Host(wire);
    await tagged.sudo('whoami');
    await tagged.as('www-data').cd('/srv/app').exec('ls');
    const [first, second] = wire.rendered as [string, string];
    // No export in front of sudo: sudo resets the environment, so the tag goes after it.
    expect(first).toMatch(new RegExp(`^sudo -n -H -- env DEPLOYR_CMD=${UUID} sh -c whoami$`));
    expect(second).toMatch(new RegExp(`^sudo -n -H -u www-data -- env DEPLOYR_CMD=${UUID} sh -c 'cd /srv/app && ls'$`));
    expect(wire.commands).toEqual(['sudo -n -H -- sh -c whoami', `sudo -n -H -u www-data -- sh -c 'cd /srv/app && ls'`]);
  });
});

describe('stopping a command', () => {
  it('hands the transport only an AbortSignal, never a timeout', async () => {
    const stoppable = new StoppableConnection();
    await new Host(stoppable, { defaultTimeout: 5_000 }).exec('true', { timeout: 1_000 });
    expect(stoppable.options).toHaveLength(1);
    expect(stoppable.options[0]!.timeout).toBeUndefined();
    expect(stoppable.options[0]!.signal).toBeInstanceOf(AbortSignal);
  });

  it('on timeout, kills everything tagged right away and again after the channel closed, outside the cd/env context', async () => {
    const stoppable = new StoppableConnection();
    const events: HostEvent[] = [];
    const h = new Host(stoppable, { onEvent: (event) => events.push(event) });
    const started = Date.now();
    const error = (await h.cd('/srv/app').env({ A: '1' }).exec('sleep 300', { timeout: 50 }).catch((caught: unknown) => caught)) as CommandError;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ timedOut: true, aborted: false, command: 'export A=1 && cd /srv/app && sleep 300' });
    expect(error.hint).toMatch(/did not finish in time/);

    const tag = tagOf(stoppable.rendered[0]!);
    const sweep = sweepOf(tag);
    expect(stoppable.log).toEqual([
      'start: export A=1 && cd /srv/app && sleep 300',
      `start: ${sweep}`, // at once, while the command still runs
      `end: ${sweep}`,
      'killed: export A=1 && cd /srv/app && sleep 300',
      `start: ${sweep}`, // once more after it ended
      `end: ${sweep}`,
    ]);
    // The sweeps carry a tag of their own, so a sweep never kills itself.
    for (const line of stoppable.rendered.slice(1)) expect(line).toMatch(new RegExp(`^export DEPLOYR_CMD=(?!${tag})${UUID}; grep `));
    // The sweeps are plumbing: only the command shows up in the events.
    expect(events.map((event) => event.type)).toEqual(['command:start', 'command:end']);
    expect(JSON.stringify(events)).not.toContain('grep');
  });

  it('on abort, does the same and throws aborted, even with nothrow', async () => {
    const stoppable = new StoppableConnection();
    const controller = new AbortController();
    const running = new Host(stoppable).exec('sleep 300', { signal: controller.signal, nothrow: true }).catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    const error = (await running) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ timedOut: false, aborted: true, command: 'sleep 300' });
    expect(error.hint).toBeUndefined();
    const sweep = sweepOf(tagOf(stoppable.rendered[0]!));
    expect(stoppable.log).toEqual(['start: sleep 300', `start: ${sweep}`, `end: ${sweep}`, 'killed: sleep 300', `start: ${sweep}`, `end: ${sweep}`]);
  });

  it('sweeps through the same sudo context as the command', async () => {
    const stoppable = new StoppableConnection();
    const error = await new Host(stoppable).as('www-data').exec('sleep 300', { timeout: 50 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ timedOut: true });
    const tag = tagOf(stoppable.rendered[0]!);
    const sweep = `sudo -n -H -u www-data -- sh -c ${quote(sweepOf(tag))}`;
    expect(stoppable.log).toEqual([
      `start: sudo -n -H -u www-data -- sh -c 'sleep 300'`,
      `start: ${sweep}`,
      `end: ${sweep}`,
      `killed: sudo -n -H -u www-data -- sh -c 'sleep 300'`,
      `start: ${sweep}`,
      `end: ${sweep}`,
    ]);
    for (const line of stoppable.rendered.slice(1)) {
      expect(line).toMatch(new RegExp(`^sudo -n -H -u www-data -- env DEPLOYR_CMD=(?!${tag})${UUID} sh -c `));
    }
  });

  it('a signal aborted before the start: CommandError(aborted), not a DOMException', async () => {
    const stoppable = new StoppableConnection();
    const error = await new Host(stoppable).exec('touch /tmp/x', { signal: AbortSignal.abort() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).not.toBeInstanceOf(DOMException);
    expect(error).toMatchObject({ aborted: true, timedOut: false, exitCode: null, command: 'touch /tmp/x' });
    expect(stoppable.log).toContain('not started: touch /tmp/x');
    expect(stoppable.log.filter((line) => line.includes('touch'))).toEqual(['not started: touch /tmp/x']);
  });

  it('a command that times out or is aborted while waiting for a channel fails at once, not after its sweeps waited too', async () => {
    const queued = new StoppableConnection('web-1', true);
    const h = new Host(queued);
    let started = Date.now();
    const timedOut = await h.exec('ls', { timeout: 50 }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(timedOut).toBeInstanceOf(CommandError);
    expect(timedOut).toMatchObject({ timedOut: true, aborted: false, command: 'ls' });

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    started = Date.now();
    const aborted = await h.exec('ls', { signal: controller.signal }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(aborted).toBeInstanceOf(CommandError);
    expect(aborted).not.toBeInstanceOf(DOMException);
    expect(aborted).toMatchObject({ timedOut: false, aborted: true });

    // Nothing left waiting for a channel: a sweep for a command that never started has nothing to kill.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(queued.pending).toBe(0);
    expect(queued.log.filter((line) => line.startsWith('queued: ls'))).toHaveLength(2);
  });

  it('sweeps that never finish (a dead connection) delay the error by one sweep time limit (5 s) in all, not one per sweep', async () => {
    // The command ends when stopped; every sweep hangs until its signal fires, as on a link that answers nothing.
    class DeadSweeps extends StoppableConnection {
      override async exec(command: Command, options: TransportExecOptions = {}): Promise<TransportExecResult> {
        if (!command.display().includes('DEPLOYR_CMD=')) return super.exec(command, options);
        this.log.push(`sweep hangs: ${command.display().slice(0, 20)}`);
        if (!options.signal?.aborted) await new Promise((resolve) => options.signal?.addEventListener('abort', resolve, { once: true }));
        return { stdout: EMPTY, stderr: EMPTY, code: null, signal: null, timedOut: false, aborted: true };
      }
    }
    const dead = new DeadSweeps();
    const started = Date.now();
    const error = await new Host(dead).exec('sleep 300', { timeout: 50 }).catch((caught: unknown) => caught);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ timedOut: true });
    expect(elapsed).toBeGreaterThanOrEqual(4_900);
    expect(elapsed).toBeLessThan(6_000);
  });
});

describe('callback overloads', () => {
  it('cd(dir, fn) returns what fn returns and leaves the host unchanged', async () => {
    const value = await host.cd('/srv', async (inside) => {
      await inside.exec('ls');
      return 42;
    });
    expect(value).toBe(42);
    expect(host.cwd).toBeUndefined();
    await host.exec('ls');
    expect(connection.commands).toEqual(['cd /srv && ls', 'ls']);
  });

  it('env, prefix and as callbacks scope their context the same way', async () => {
    await host.env({ A: '1' }, (inside) => inside.exec('one'));
    await host.prefix('p', (inside) => inside.exec('two'));
    await host.as('deploy', (inside) => inside.exec('three'));
    await host.exec('four');
    expect(connection.commands).toEqual(['export A=1 && one', 'p && two', 'sudo -n -H -u deploy -- sh -c three', 'four']);
  });

  it('nested callbacks stack their context', async () => {
    await host.cd('/srv', (srv) => srv.env({ A: '1' }, (both) => both.cd('app', (all) => all.exec('run'))));
    expect(connection.commands).toEqual(['export A=1 && cd /srv/app && run']);
  });

  it('a derived host is independent of the host it came from', async () => {
    const base = host.cd('/a');
    const child = base.cd('b').env({ X: '1' });
    await base.exec('ls');
    await child.exec('ls');
    await base.exec('ls');
    expect(connection.commands).toEqual(['cd /a && ls', 'export X=1 && cd /a/b && ls', 'cd /a && ls']);
    expect(child.name).toBe('web-1');
    expect(child.connection).toBe(connection);
  });

  it('a rejecting callback propagates its error', async () => {
    connection.respond('fail', { code: 1 });
    await expect(host.cd('/srv', (inside) => inside.exec('fail'))).rejects.toBeInstanceOf(CommandError);
    expect(host.cwd).toBeUndefined();
  });
});

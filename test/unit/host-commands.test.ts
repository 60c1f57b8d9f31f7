// The exact command lines Host builds, read back from a RecordingConnection
// (Kamal style, STYLE.md habit 13). Behaviour on a real shell is covered in
// test/local/ and against the sshd fleet; here a changed string is a review item.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cmd, secret } from '../../core/command/index.js';
import { Host, RecordingConnection, type HostEvent } from '../../core/connection/index.js';
import { CommandError } from '../../core/errors.js';

let connection: RecordingConnection;
let host: Host;

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
    expect(events[1]).toMatchObject({ type: 'command:end', code: 0, signal: null });
    expect((events[0] as { id: string }).id).toBe((events[1] as { id: string }).id);
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

  it.each(['BAD-NAME', '1ABC', 'A B', '', 'A;reboot', 'A=B'])('rejects the invalid name %j, running nothing', async (name) => {
    await expect(host.env({ [name]: 'x' }).exec('ls')).rejects.toThrow(TypeError);
    await expect(host.env({ [name]: 'x' }).exec('ls')).rejects.toThrow(`"${name}" is not a valid environment variable name`);
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
    const withPassword = new Host(connection, { sudoPassword: 'pw' });
    await withPassword.as('deploy').exec('whoami');
    await withPassword.sudo('whoami');
    const [first, second] = connection.commands as [string, string];
    const shape = (user: string): RegExp =>
      new RegExp(
        String.raw`^sudo -S -H -p '\[deployr-sudo-prompt:([0-9a-f]{16})\]' ${user}-- sh -c ` +
          String.raw`'printf '\\''%s\\n'\\'' '\\''\[deployr-sudo-ready:\1\]'\\'' >&2; whoami'$`,
      );
    expect(first).toMatch(shape('-u deploy '));
    expect(second).toMatch(shape(''));
    // A fresh marker for every command: output of one cannot fake the next one's prompt.
    expect(first.match(/prompt:([0-9a-f]+)/)?.[1]).not.toBe(second.match(/prompt:([0-9a-f]+)/)?.[1]);
    expect(connection.commands.join('\n')).not.toContain('pw\n');
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

  it('writeFile writes a temporary file, sets its mode, then renames it over the target', async () => {
    await host.writeFile('/etc/app.conf', 'key=value\n');
    expect(connection.calls).toHaveLength(1);
    expect(connection.calls[0]).toMatchObject({ type: 'exec', stdin: true });
    const [line] = connection.commands as [string];
    const temp = /\/etc\/app\.conf\.deployr-[0-9a-f]{8}/.exec(line)?.[0];
    expect(temp).toBeDefined();
    expect(line).toBe(`cat > ${temp} && chmod 644 ${temp} && mv -f ${temp} /etc/app.conf`);
  });

  it('writeFile sets the requested mode', async () => {
    await host.writeFile('/etc/secret.env', 'x', { mode: 0o600 });
    await host.writeFile('/usr/local/bin/tool', 'x', { mode: 0o4755 });
    expect(connection.commands[0]).toMatch(/ && chmod 600 \/etc\/secret\.env\.deployr-[0-9a-f]{8} && /);
    expect(connection.commands[1]).toMatch(/ && chmod 4755 \/usr\/local\/bin\/tool\.deployr-[0-9a-f]{8} && /);
  });

  it('writeFile quotes the path and keeps ~/ expandable', async () => {
    await host.writeFile('~/my app/.env', 'x');
    expect(connection.commands[0]).toMatch(
      /^cat > ~\/'my app\/\.env\.deployr-([0-9a-f]{8})' && chmod 644 ~\/'my app\/\.env\.deployr-\1' && mv -f ~\/'my app\/\.env\.deployr-\1' ~\/'my app\/\.env'$/,
    );
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

  it('writeFile through cd and as() runs inside both', async () => {
    await host.as('www-data').cd('/srv/app').writeFile('.env', 'x');
    expect(connection.commands[0]).toMatch(
      /^sudo -n -H -u www-data -- sh -c 'cd \/srv\/app && cat > \.env\.deployr-([0-9a-f]{8}) && chmod 644 \.env\.deployr-\1 && mv -f \.env\.deployr-\1 \.env'$/,
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

  it('put and get go to the connection as they are', async () => {
    await host.put('./dist/app.tar', '/srv/app.tar', { mode: 0o600 });
    await host.get('/var/log/app.log', './app.log');
    expect(connection.calls).toEqual([
      { type: 'put', from: './dist/app.tar', to: '/srv/app.tar', mode: 0o600 },
      { type: 'get', from: '/var/log/app.log', to: './app.log' },
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

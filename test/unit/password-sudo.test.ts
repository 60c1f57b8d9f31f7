// The password-sudo protocol (core/connection/sudo.ts) against a fake `sudo`:
// a real shell script that behaves like
// `sudo -S -H -p PROMPT [-u USER] -- env DEPLOYR_CMD=<tag> sh -c CMD`,
// found first on PATH by the /bin/sh that LocalConnection starts.
//
// Why a wrapping connection for PATH: host.env() and host.prefix() apply
// *inside* sudo's `sh -c`, so they cannot change which `sudo` runs. The
// wrapper exports PATH in the outer shell, in front of the command Host built.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmd, joinCommands, quote, raw, type Command } from '../../core/command/index.js';
import { Host, LocalConnection, type Connection, type TransportExecOptions } from '../../core/connection/index.js';
import { CommandError } from '../../core/errors.js';

const PASSWORD = `pa$$ w'rd "x" \`id\``;

/** A v4 UUID, as a regular expression source: the tag every command carries. */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

/** Pids whose command line contains `text`. */
function pidsMatching(text: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

/**
 * Like `sudo -S`: prints PROMPT on stderr, reads one line of stdin, compares
 * it with the password baked in; on a mismatch says "Sorry, try again." and
 * asks again, up to 3 times. Like the real one with -S, it prints no newline
 * after the answer. Logs its arguments and every answer it read. Then runs
 * everything after `--` as the command, as sudo does: `env VAR=value sh -c …`
 * included.
 */
function fakeSudoScript(log: string, password: string, options: { lecture?: boolean; splitPrompt?: boolean } = {}): string {
  // A lecture before the prompt, and a prompt written in two pieces: both things real sudo can do.
  const lecture = options.lecture ? `printf 'We trust you have received the usual lecture.\\n' >&2` : '';
  const showPrompt = options.splitPrompt
    ? `printf '%s' "$prompt" | cut -c1-10 | tr -d '\\n' >&2; sleep 0.2; printf '%s' "$prompt" | cut -c11- | tr -d '\\n' >&2`
    : `printf '%s' "$prompt" >&2`;
  return `#!/bin/sh
expected=${quote(password)}
log=${quote(log)}
printf 'argv:' >> "$log"; printf ' <%s>' "$@" >> "$log"; printf '\\n' >> "$log"
prompt='Password:'
while [ $# -gt 0 ]; do
  case $1 in
    -p) prompt=$2; shift 2 ;;
    -u) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
${lecture}
tries=0
while :; do
  ${showPrompt}
  if ! IFS= read -r answer; then
    printf '\\nsudo: no password was provided\\n' >&2
    exit 1
  fi
  printf 'answer: <%s>\\n' "$answer" >> "$log"
  [ "$answer" = "$expected" ] && break
  tries=$((tries + 1))
  if [ "$tries" -ge 3 ]; then
    printf 'sudo: 3 incorrect password attempts\\n' >&2
    exit 1
  fi
  printf 'Sorry, try again.\\n' >&2
done
exec "$@"
`;
}

/** Like a NOPASSWD rule: never prompts, never reads stdin, runs the command at once. */
function fakeNopasswdScript(log: string): string {
  return `#!/bin/sh
log=${quote(log)}
printf 'argv:' >> "$log"; printf ' <%s>' "$@" >> "$log"; printf '\\n' >> "$log"
while [ $# -gt 0 ]; do
  case $1 in
    -p|-u) shift 2 ;;
    --) shift; break ;;
    -*) shift ;;
    *) break ;;
  esac
done
exec "$@"
`;
}

/** A LocalConnection whose outer shell finds programs in `dir` first. */
class PathConnection implements Connection {
  readonly kind = 'local' as const;
  private readonly local: LocalConnection;

  constructor(
    private readonly dir: string,
    readonly name: string,
  ) {
    this.local = new LocalConnection({ name });
  }

  exec(command: Command, options?: TransportExecOptions) {
    return this.local.exec(joinCommands('; ', [cmd`export PATH=${this.dir}${raw(':"$PATH"')}`, command]), options);
  }

  put(...args: Parameters<Connection['put']>) {
    return this.local.put(...args);
  }

  get(...args: Parameters<Connection['get']>) {
    return this.local.get(...args);
  }

  close() {
    return this.local.close();
  }
}

let root: string;

interface FakeSudo {
  host: Host;
  log: () => Promise<string>;
}

async function fakeSudo(name: string, script: (log: string) => string, sudoPassword: string): Promise<FakeSudo> {
  const dir = join(root, name);
  const log = join(root, `${name}.log`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  await writeFile(join(dir, 'sudo'), script(log), { mode: 0o755 });
  await writeFile(log, '');
  return {
    host: new Host(new PathConnection(dir, name), { sudoPassword, defaultTimeout: 10_000 }),
    log: () => readFile(log, 'utf8'),
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'deployr-fake-sudo-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the fake sudo itself', () => {
  it('is the sudo the outer shell runs', async () => {
    const { host } = await fakeSudo('which', (log) => fakeNopasswdScript(log), 'x');
    expect(await host.exec('command -v sudo')).toMatchObject({ stdout: `${join(root, 'which', 'sudo')}\n` });
  });
});

describe('with the right password', () => {
  let sudo: FakeSudo;

  beforeAll(async () => {
    sudo = await fakeSudo('right', (log) => fakeSudoScript(log, PASSWORD), PASSWORD);
  });

  it('answers the prompt once and runs the command', async () => {
    const before = await sudo.log();
    const result = await sudo.host.sudo(cmd`printf '%s' ${'ran as root'}`);
    expect(result).toMatchObject({ ok: true, code: 0, stdout: 'ran as root' });
    const log = (await sudo.log()).slice(before.length);
    expect(log.match(/^answer: .*$/gm)).toEqual([`answer: <${PASSWORD}>`]);
  });

  it("gives the command the caller's stdin, and not the password", async () => {
    const data = 'line one\nline two\nno newline at the end';
    const result = await sudo.host.sudo('cat', { stdin: data });
    expect(result.stdout).toBe(data);
  });

  it('passes a Buffer and a stream as stdin intact', async () => {
    const bytes = Buffer.from('binary\x00\xff\x01 and text\n', 'latin1');
    const fromBuffer = await sudo.host.sudo('od -An -tx1 | tr -d " \\n"', { stdin: bytes });
    expect(fromBuffer.stdout).toBe(bytes.toString('hex'));
    const fromStream = await sudo.host.sudo('cat', { stdin: Readable.from(['chunk 1,', ' chunk 2,', ' chunk 3']) });
    expect(fromStream.stdout).toBe('chunk 1, chunk 2, chunk 3');
  });

  it("stops the command when the caller's stdin stream fails, before or after sudo took the password, crashing nothing", async () => {
    const early = new PassThrough();
    early.destroy(new Error('failed before sudo was done'));
    const first = await sudo.host.sudo('cat; echo finished', { stdin: early }).catch((caught: unknown) => caught);
    expect(first).toBeInstanceOf(CommandError);
    expect(first).toMatchObject({ cause: { message: 'failed before sudo was done' } });

    // Longer than the password: output that could start a secret is held back until more arrives.
    const input = 'some input\n'.repeat(10);
    const late = new PassThrough();
    late.write(input);
    let seen = '';
    const second = (await sudo.host
      .sudo('cat; echo finished', {
        stdin: late,
        onStdout: (text) => {
          seen += text;
          if (seen.length >= input.length / 2) late.destroy(new Error('failed while the command read it'));
        },
      })
      .catch((caught: unknown) => caught)) as CommandError;
    expect(second).toBeInstanceOf(CommandError);
    expect(second.cause).toMatchObject({ message: 'failed while the command read it' });
    expect(second.message).toContain('failed while the command read it');
    expect(second.stdout).toBe(input); // stopped: never told its input had ended
  });

  it('gives a command that reads stdin an immediate end of file when the caller has none', async () => {
    const result = await sudo.host.sudo('cat; echo done', { timeout: 5_000 });
    expect(result.stdout).toBe('done\n');
  });

  it('keeps the protocol out of stderr, the callbacks and the events', async () => {
    const streamed: string[] = [];
    const events: string[] = [];
    const host = new Host(sudo.host.connection, {
      sudoPassword: PASSWORD,
      onEvent: (event) => {
        if (event.type === 'command:output') events.push(event.text);
      },
    });
    const result = await host.sudo('echo warning >&2; echo out; echo more >&2', { onStderr: (text) => streamed.push(text) });
    expect(result.stderr).toBe('warning\nmore\n');
    expect(result.stdout).toBe('out\n');
    expect(streamed.join('')).toBe('warning\nmore\n');
    expect(events.join('')).not.toMatch(/deployr-sudo/);
  });

  it('runs as another user with -u, with cd and env inside sudo', async () => {
    const before = await sudo.log();
    const result = await sudo.host.as('www-data').cd('/tmp').env({ GREETING: 'hi there' }).exec('printf "%s in %s" "$GREETING" "$(pwd)"');
    expect(result.stdout).toBe('hi there in /tmp');
    const argv = (await sudo.log()).slice(before.length).split('\n')[0] as string;
    // The whole argv: prompt, user, the tag through env, then the script: ready marker (same token), env, cd, command.
    expect(argv).toMatch(
      new RegExp(
        String.raw`^argv: <-S> <-H> <-p> <\[deployr-sudo-prompt:([0-9a-f]{16})\]> <-u> <www-data> <--> <env> <DEPLOYR_CMD=${UUID}> <sh> <-c> ` +
          String.raw`<printf '%s\\n' '\[deployr-sudo-ready:\1\]' >&2; export GREETING='hi there' && cd /tmp && printf "%s in %s" "\$GREETING" "\$\(pwd\)">$`,
      ),
    );
  });

  it('gives the command its tag (DEPLOYR_CMD) through env after sudo, a fresh one each time', async () => {
    const before = await sudo.log();
    const first = (await sudo.host.sudo('printf %s "$DEPLOYR_CMD"')).stdout;
    const second = (await sudo.host.as('www-data').exec('printf %s "$DEPLOYR_CMD"')).stdout;
    expect(first).toMatch(new RegExp(`^${UUID}$`));
    expect(second).toMatch(new RegExp(`^${UUID}$`));
    expect(second).not.toBe(first);
    const argvs = (await sudo.log()).slice(before.length).match(/^argv: .*$/gm);
    expect(argvs).toHaveLength(2);
    expect(argvs![0]).toContain(`<--> <env> <DEPLOYR_CMD=${first}> <sh> <-c> `);
    expect(argvs![1]).toContain(`<-u> <www-data> <--> <env> <DEPLOYR_CMD=${second}> <sh> <-c> `);
  });

  it('kills a timed-out command, sweeping through sudo with the password, and throws timedOut in bounded time', async () => {
    const marker = `33.${randomInt(1e8, 1e9)}`;
    const before = await sudo.log();
    const started = Date.now();
    const error = (await sudo.host.sudo(`sleep ${marker}; echo never`, { timeout: 500 }).catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ timedOut: true, aborted: false, stdout: '' });
    expect(error.command).toBe(`sudo -S -H -- sh -c 'sleep ${marker}; echo never'`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
    // The sweeps ran through the same sudo, each answered with the password, looking for this command's tag.
    const log = (await sudo.log()).slice(before.length);
    const tag = new RegExp(`<env> <DEPLOYR_CMD=(${UUID})> <sh> <-c> <printf [^\n]*sleep ${marker.replace('.', '\\.')}`).exec(log)?.[1];
    expect(tag).toBeDefined();
    const sweeps = log.match(new RegExp(`^argv: <-S> <-H> <-p> .* <--> <env> <DEPLOYR_CMD=(?!${tag})${UUID}> <sh> <-c> <printf .*grep -lzxF DEPLOYR_CMD=${tag} .*$`, 'gm'));
    expect(sweeps).toHaveLength(2);
    expect(log.match(/^answer: .*$/gm)).toEqual(Array.from({ length: 3 }, () => `answer: <${PASSWORD}>`));
  });

  it('reports a failing command as the command failing, not as a password problem', async () => {
    const error = (await sudo.host.sudo('echo broken >&2; exit 4').catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    // Logged as plain `sudo -S -H -- sh -c`: no prompt flag, no tag, no ready marker.
    expect(error.command).toBe(`sudo -S -H -- sh -c 'echo broken >&2; exit 4'`);
    expect(error.exitCode).toBe(4);
    expect(error.stderr).toBe('broken\n');
    expect(error.hint ?? '').not.toMatch(/password/);
  });
});

describe('with a lecture and a prompt that arrives in two pieces', () => {
  it('passes the lecture through and still answers the whole prompt once', async () => {
    const sudo = await fakeSudo('split', (log) => fakeSudoScript(log, PASSWORD, { lecture: true, splitPrompt: true }), PASSWORD);
    const result = await sudo.host.sudo('cat', { stdin: 'payload' });
    expect(result.stdout).toBe('payload');
    expect(result.stderr).toBe('We trust you have received the usual lecture.\n');
    expect((await sudo.log()).match(/^answer: .*$/gm)).toEqual([`answer: <${PASSWORD}>`]);
  });
});

describe('with a NOPASSWD sudo', () => {
  let sudo: FakeSudo;

  beforeAll(async () => {
    sudo = await fakeSudo('nopasswd', (log) => fakeNopasswdScript(log), PASSWORD);
  });

  it("never writes the password: the command's stdin is only the caller's data", async () => {
    const result = await sudo.host.sudo('cat', { stdin: 'only this' });
    expect(result.stdout).toBe('only this');
    expect(result.stdout).not.toContain(PASSWORD);
  });

  it('gives the command an empty stdin when the caller has none', async () => {
    const result = await sudo.host.sudo('wc -c', { timeout: 5_000 });
    expect(result.stdout.trim()).toBe('0');
  });

  it('still hides the ready marker', async () => {
    const result = await sudo.host.sudo('echo note >&2');
    expect(result.stderr).toBe('note\n');
  });
});

describe('with a wrong password', () => {
  let sudo: FakeSudo;
  let error: CommandError;

  beforeAll(async () => {
    sudo = await fakeSudo('wrong', (log) => fakeSudoScript(log, 'the real one'), PASSWORD);
    error = (await sudo.host.sudo('echo should not run', { stdin: 'caller data' }).catch((caught: unknown) => caught)) as CommandError;
  });

  it('throws a CommandError that says sudo refused the password', () => {
    expect(error).toBeInstanceOf(CommandError);
    expect(error.exitCode).toBe(1);
    expect(error.hint).toMatch(/sudo refused the password/);
    expect(error.describe()).toMatch(/check the sudoPassword setting/);
    expect(error.stdout).toBe('');
  });

  it('tries the password once, then gives sudo end of file instead of guessing', async () => {
    const log = await sudo.log();
    expect(log.match(/^answer: .*$/gm)).toEqual([`answer: <${PASSWORD}>`]);
    expect(log).not.toContain('caller data');
  });

  it("keeps sudo's own messages but not the prompt markers", () => {
    expect(error.stderr).toContain('Sorry, try again.');
    expect(error.stderr).toContain('no password was provided');
    expect(error.stderr).not.toMatch(/deployr-sudo-prompt/);
  });

  it('has no password in any error text', () => {
    for (const text of [error.message, error.describe(), error.command, error.stdout, error.stderr, error.stack ?? '', inspect(error), JSON.stringify(error)]) {
      expect(text).not.toContain(PASSWORD);
    }
  });
});

// LocalConnection through Host: the real /bin/sh on this machine, so exit
// codes, signals, streams, timeouts and file transfer behave as they will on
// a remote host. (SSH gets the same checks against the sshd fleet.)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cmd, secret } from '../../core/command/index.js';
import { Host, LocalConnection, type PutDirProgress } from '../../core/connection/index.js';
import { CommandError, TransferError } from '../../core/errors.js';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

let root: string;
const host = new Host(new LocalConnection({ name: 'local-test' }));

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'deployr-local-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * Live processes in a process group, via the real pgrep and ps. Zombies are
 * left out: they are dead, only waiting for init (which in some containers
 * never reaps them) to collect their exit status.
 */
function groupMembers(pgid: number): number[] {
  let pids: string[];
  try {
    pids = execFileSync('pgrep', ['-g', String(pgid)], { encoding: 'utf8' }).trim().split('\n');
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  let states: string;
  try {
    states = execFileSync('ps', ['-o', 'pid=,stat=', '-p', pids.join(',')], { encoding: 'utf8' });
  } catch {
    return []; // all gone between the two calls
  }
  return states
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, stat]) => stat !== undefined && !stat.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

/** Pids whose command line contains `text`. */
function pidsMatching(text: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', text], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

async function waitFor<T>(probe: () => T | undefined, what: string, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('exit status', () => {
  it('reports success', async () => {
    expect(await host.exec('true')).toMatchObject({ code: 0, signal: null, ok: true, stdout: '', stderr: '' });
  });

  it('reports an exit code, throwing unless nothrow', async () => {
    expect(await host.exec('exit 3', { nothrow: true })).toMatchObject({ code: 3, signal: null, ok: false });
    await expect(host.exec('exit 3')).rejects.toMatchObject({ name: 'CommandError', exitCode: 3, signal: null });
  });

  it('reports a signal with no exit code', async () => {
    expect(await host.exec('kill -TERM $$', { nothrow: true })).toMatchObject({ code: null, signal: 'SIGTERM', ok: false });
    const error = (await host.exec('kill -KILL $$').catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false, aborted: false });
    expect(error.message).toMatch(/^Command was killed by SIGKILL on local-test: kill -KILL \$\$/);
  });

  it('hints at PATH when a program is not found', async () => {
    const error = (await host.exec('no-such-program-deployr').catch((caught: unknown) => caught)) as CommandError;
    expect(error.exitCode).toBe(127);
    expect(error.hint).toMatch(/not found/);
  });
});

describe('output and input', () => {
  it('keeps stdout and stderr apart', async () => {
    const result = await host.exec('echo out; echo err >&2; echo out2');
    expect(result.stdout).toBe('out\nout2\n');
    expect(result.stderr).toBe('err\n');
  });

  it('streams output to the callbacks as it arrives', async () => {
    const chunks: Array<[string, string]> = [];
    await host.exec('echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three', {
      onStdout: (text) => chunks.push(['out', text]),
      onStderr: (text) => chunks.push(['err', text]),
    });
    expect(chunks).toEqual([
      ['out', 'one\n'],
      ['err', 'two\n'],
      ['out', 'three\n'],
    ]);
  });

  it('feeds stdin from a string, a Buffer and a stream', async () => {
    expect((await host.exec('cat', { stdin: 'from a string\n' })).stdout).toBe('from a string\n');
    const bytes = randomBytes(4096);
    expect((await host.exec('od -An -tx1 -v | tr -d " \\n"', { stdin: bytes })).stdout).toBe(bytes.toString('hex'));
    const stream = Readable.from((function* () {
      for (let i = 0; i < 100; i++) yield `chunk ${i}\n`;
    })());
    const expected = Array.from({ length: 100 }, (_, i) => `chunk ${i}\n`).join('');
    expect((await host.exec('cat', { stdin: stream })).stdout).toBe(expected);
  });

  it('stops the command when its stdin stream fails: CommandError naming the host and the error, which is its cause', async () => {
    const failure = new Error('the source went away');
    let sent = 0;
    const stream = new Readable({
      read() {
        sent += 1;
        if (sent <= 3) this.push(`chunk ${sent}\n`);
        else setTimeout(() => this.destroy(failure), 50);
      },
    });
    const error = (await host.exec('cat; echo finished', { stdin: stream, nothrow: true }).catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.cause).toBe(failure);
    expect(error.message).toContain('local-test');
    expect(error.message).toContain('the source went away');
    expect(error.stdout).not.toContain('finished'); // stopped, not handed an early end of input
  });

  it('a stdin stream that fails before the command starts, or after it ended, crashes nothing', async () => {
    const early = new Readable({ read() {} });
    early.destroy(new Error('failed at once'));
    await expect(host.exec('cat', { stdin: early })).rejects.toMatchObject({ name: 'CommandError', cause: { message: 'failed at once' } });
    const late = new Readable({ read() {} });
    expect(await host.exec('true', { stdin: late })).toMatchObject({ ok: true });
    late.destroy(new Error('failed after the command'));
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it('does not fail when the command ignores its stdin', async () => {
    expect(await host.exec('true', { stdin: randomBytes(1 << 20) })).toMatchObject({ ok: true });
  });

  it('gives a command without stdin an immediate end of file', async () => {
    expect((await host.exec('cat; echo eof', { timeout: 5_000 })).stdout).toBe('eof\n');
  });

  it('passes 10 MB through stdin and back intact', async () => {
    const data = randomBytes(5 << 20).toString('hex'); // 10 MiB of text
    const result = await host.exec('cat', { stdin: data });
    expect(result.stdout.length).toBe(data.length);
    expect(sha256(result.stdout)).toBe(sha256(data));
  });

  it('decodes 10 MB of multi-byte output intact across chunk boundaries', async () => {
    const line = 'ünïcødé 🚀 部署 line\n';
    const count = Math.ceil((10 << 20) / Buffer.byteLength(line));
    let streamed = '';
    // yes | head -n: generated on the "host", split by the pipe wherever it likes.
    const result = await host.exec(cmd`yes ${line.slice(0, -1)} | head -n ${count}`, { onStdout: (text) => (streamed += text) });
    const expected = line.repeat(count);
    expect(Buffer.byteLength(result.stdout)).toBe(Buffer.byteLength(expected));
    expect(sha256(result.stdout)).toBe(sha256(expected));
    expect(sha256(streamed)).toBe(sha256(expected));
  });
});

describe('capture', () => {
  it('capture: false streams output to the callbacks and keeps no copy in the result', async () => {
    const connection = new LocalConnection();
    const streamed: Buffer[] = [];
    const kept = await connection.exec(cmd`printf %s captured`, { onStdout: (chunk) => streamed.push(chunk) });
    const notKept = await connection.exec(cmd`printf %s streamed; printf %s err >&2`, { capture: false, onStdout: (chunk) => streamed.push(chunk) });
    expect(kept.stdout.toString()).toBe('captured');
    expect(notKept.stdout.length + notKept.stderr.length).toBe(0);
    expect(notKept.code).toBe(0);
    expect(Buffer.concat(streamed).toString()).toBe('capturedstreamed');
  });
});

describe('timeout and abort', () => {
  it('kills the whole pipeline on timeout and throws a timed-out CommandError', async () => {
    const marker = `30.${randomInt(1e8, 1e9)}`; // a sleep duration no other process uses
    const running = host.exec(`sleep ${marker} | sh -c 'cat; : ${marker}'`, { timeout: 1_000 }).catch((caught: unknown) => caught);

    // While it runs: find its process group (the outer sh leads it) and its members.
    const pgid = await waitFor(() => {
      const pids = pidsMatching(`sleep ${marker}`);
      if (pids.length === 0) return undefined;
      const groups = pids.map((pid) => Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim()));
      return groups[0];
    }, 'the pipeline to start');
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(4); // sh, sleep, sh, cat

    const error = (await running) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    // SIGTERM, deterministically: the transport signals the group in the same tick the kill sweep is
    // spawned, and the sweep (SIGKILL by tag) never targets the outer sh, whose own environ has no tag.
    expect(error).toMatchObject({ timedOut: true, aborted: false, signal: 'SIGTERM', exitCode: null });
    expect(error.message).toMatch(/^Command timed out on local-test: sleep /);
    expect(error.hint).toMatch(/did not finish in time/);
    expect(groupMembers(pgid)).toEqual([]);
    expect(pidsMatching(marker)).toEqual([]);
  });

  it('throws a timeout even with nothrow', async () => {
    await expect(host.exec('sleep 10', { timeout: 200, nothrow: true })).rejects.toMatchObject({ timedOut: true });
  });

  it('uses the host default timeout', async () => {
    const impatient = new Host(new LocalConnection(), { defaultTimeout: 200 });
    await expect(impatient.exec('sleep 10')).rejects.toMatchObject({ timedOut: true });
  });

  it('kills a command that ignores SIGTERM with SIGKILL', async () => {
    const stubborn = new Host(new LocalConnection({ name: 'stubborn', killGraceMs: 300 }));
    const marker = `31.${randomInt(1e8, 1e9)}`;
    const started = Date.now();
    const error = (await stubborn.exec(`trap '' TERM; sleep ${marker}`, { timeout: 300 }).catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ timedOut: true, aborted: false });
    // Which process SIGKILL reaches first is a race: the tag sweep kills sleep (sh then exits 128+9),
    // or the transport's SIGKILL after killGraceMs kills sh itself. Either way it was SIGKILL.
    expect(error.signal === 'SIGKILL' || (error.signal === null && error.exitCode === 128 + 9), `${error.signal} ${error.exitCode}`).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(pidsMatching(marker)).toEqual([]);
  });

  it('leaves nothing behind when the shell ignores SIGTERM and would go on to the next command', async () => {
    const stubborn = new Host(new LocalConnection({ name: 'stubborn', killGraceMs: 300 }));
    const marker = `34.${randomInt(1e8, 1e9)}`;
    const started = Date.now();
    const running = stubborn
      .exec(`trap '' TERM; sleep 1${marker} | sh -c 'trap "" TERM; cat; : ${marker}'; sleep 2${marker}`, { timeout: 30_000, signal: AbortSignal.timeout(500) })
      .catch((caught: unknown) => caught);
    await waitFor(() => (pidsMatching(`sleep 1${marker}`).length ? true : undefined), 'the pipeline to start');
    const error = (await running) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ aborted: true, timedOut: false });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(pidsMatching(marker)).toEqual([]); // both sleeps and the sh running cat
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pidsMatching(marker)).toEqual([]); // and nothing started afterwards
  });

  it('aborts on an AbortSignal, throwing even with nothrow', async () => {
    const marker = `32.${randomInt(1e8, 1e9)}`;
    const controller = new AbortController();
    const running = host.exec(`sleep ${marker} | cat`, { signal: controller.signal, nothrow: true }).catch((caught: unknown) => caught);
    await waitFor(() => (pidsMatching(`sleep ${marker}`).length ? true : undefined), 'sleep to start');
    controller.abort();
    const error = (await running) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ aborted: true, timedOut: false });
    expect(error.message).toMatch(/^Command was aborted on local-test/);
    expect(pidsMatching(marker)).toEqual([]);
  });

  it('never starts a command whose signal is already aborted: CommandError(aborted) at once', async () => {
    const file = join(root, 'should-not-exist');
    const started = Date.now();
    const error = await host.exec(cmd`sleep 1; touch ${file}`, { signal: AbortSignal.abort() }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).not.toBeInstanceOf(DOMException);
    expect(error).toMatchObject({ aborted: true, timedOut: false, exitCode: null, signal: null, stdout: '', stderr: '' });
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('CommandError', () => {
  it('names the host, the masked command, the exit code and the end of stderr', async () => {
    const box = new Host(new LocalConnection({ name: 'box-1' }));
    const script = cmd`for i in $(seq 1 20); do echo "problem $i" >&2; done; echo ${secret('s3cret-value')} >&2; exit 7`;
    const error = (await box.exec(script).catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.host).toBe('box-1');
    expect(error.exitCode).toBe(7);
    expect(error.command).toBe(`for i in $(seq 1 20); do echo "problem $i" >&2; done; echo *** >&2; exit 7`);
    const [headline, ...tail] = error.message.split('\n');
    expect(headline).toBe(`Command failed with exit code 7 on box-1: ${error.command}`);
    // The last 12 lines of stderr, the secret masked.
    expect(tail).toEqual([...Array.from({ length: 11 }, (_, i) => `  │ problem ${i + 10}`), '  │ ***']);
    expect(error.message).not.toContain('s3cret-value');
    expect(error.stderr).not.toContain('s3cret-value');
  });
});

describe('put and get', () => {
  it('copy a file, keeping its mode unless told otherwise, and report progress', async () => {
    const source = join(root, 'source.bin');
    const content = randomBytes(300_000);
    await writeFile(source, content);
    await chmod(source, 0o640);

    const progress: Array<[number, number]> = [];
    await host.put(source, join(root, 'kept.bin'), { onProgress: (done, total) => progress.push([done, total]) });
    await host.put(source, join(root, 'private.bin'), { mode: 0o600 });
    await host.get(join(root, 'kept.bin'), join(root, 'fetched.bin'), { mode: 0o755 });

    for (const name of ['kept.bin', 'private.bin', 'fetched.bin']) expect(sha256(await readFile(join(root, name)))).toBe(sha256(content));
    expect((await stat(join(root, 'kept.bin'))).mode & 0o7777).toBe(0o640);
    expect((await stat(join(root, 'private.bin'))).mode & 0o7777).toBe(0o600);
    expect((await stat(join(root, 'fetched.bin'))).mode & 0o7777).toBe(0o755);
    expect(progress.at(-1)).toEqual([content.length, content.length]);
  });

  it('resolve a relative remote path against cd(), and ~/ against the home directory', async () => {
    const source = join(root, 'relative-source.txt');
    await writeFile(source, 'relative\n');
    const dir = join(root, 'cd put');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await host.cd(dir).put(source, 'sub/put.txt');
    expect(await readFile(join(dir, 'sub', 'put.txt'), 'utf8')).toBe('relative\n');
    await host.cd(dir).cd('sub').get('put.txt', join(root, 'got-from-cd.txt'));
    expect(await readFile(join(root, 'got-from-cd.txt'), 'utf8')).toBe('relative\n');

    // ~/ is os.homedir(), i.e. $HOME: pointed at a temporary dir so the real home is left alone.
    const home = join(root, 'home');
    await mkdir(home);
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      await host.put(source, '~/in-home.txt');
      expect(await readFile(join(home, 'in-home.txt'), 'utf8')).toBe('relative\n');
      await host.cd(dir).get('~/in-home.txt', join(root, 'got-from-home.txt')); // ~ replaces the cd
      expect(await readFile(join(root, 'got-from-home.txt'), 'utf8')).toBe('relative\n');
      await host.cd('~').put(source, 'via-cd-home.txt');
      expect(await readFile(join(home, 'via-cd-home.txt'), 'utf8')).toBe('relative\n');
    } finally {
      if (savedHome === undefined) delete process.env.HOME;
      else process.env.HOME = savedHome;
    }
  });

  it('throw TransferError for a missing source or destination directory', async () => {
    await expect(host.put(join(root, 'missing'), join(root, 'x'))).rejects.toBeInstanceOf(TransferError);
    await expect(host.put(join(root, 'missing'), join(root, 'x'))).rejects.toThrow(/no such file or directory/);
    await writeFile(join(root, 'exists'), 'x');
    await expect(host.get(join(root, 'exists'), join(root, 'no-dir', 'x'))).rejects.toMatchObject({ name: 'TransferError', host: 'local-test' });
  });
});

describe('putDir', () => {
  let source: string;
  const files: Record<string, { content: Buffer; mode: number }> = {};

  beforeAll(async () => {
    source = join(root, 'tree');
    const add = async (path: string, content: Buffer, mode = 0o644): Promise<void> => {
      await mkdir(join(source, path, '..'), { recursive: true });
      await writeFile(join(source, path), content);
      await chmod(join(source, path), mode);
      files[path] = { content, mode };
    };
    await add('index.html', Buffer.from('<h1>hello</h1>\n'));
    await add('bin/run.sh', Buffer.from('#!/bin/sh\necho running\n'), 0o755);
    await add('assets/big.bin', randomBytes(1_500_000));
    await add('assets/small.bin', randomBytes(333));
    await add('name with spaces.txt', Buffer.from('spaces\n'));
    await add(`it's "quoted" $(id).txt`, Buffer.from('quotes\n'));
    await add('ünïcødé 🚀/部署.txt', Buffer.from('unicode\n'));
    await add('secret/key.pem', Buffer.from('not a key\n'), 0o600);
    await add('empty', Buffer.alloc(0));
    await mkdir(join(source, 'empty dir'));
    await chmod(join(source, 'secret'), 0o700);
  });

  /** Every entry under dir: relative path → sha256 (files) and mode. */
  async function snapshot(dir: string): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    const walk = async (current: string): Promise<void> => {
      for (const entry of await readdir(current, { withFileTypes: true })) {
        const path = join(current, entry.name);
        const mode = ((await stat(path)).mode & 0o7777).toString(8);
        if (entry.isDirectory()) {
          result[`${relative(dir, path)}/`] = `dir ${mode}`;
          await walk(path);
        } else {
          result[relative(dir, path)] = `${sha256(await readFile(path))} ${mode}`;
        }
      }
    };
    await walk(dir);
    return result;
  }

  it('uploads a tree with binary files, odd names and modes intact', async () => {
    const target = join(root, 'deployed site', 'current');
    const progress: PutDirProgress[] = [];
    const result = await host.putDir(source, target, { onProgress: (step) => progress.push(step) });

    const uploaded = await snapshot(target);
    expect(uploaded).toEqual(await snapshot(source));
    // Sanity: the snapshot sees what we wrote, so equality means something.
    expect(uploaded['bin/run.sh']).toBe(`${sha256(files['bin/run.sh']!.content)} 755`);
    expect(uploaded['secret/key.pem']).toBe(`${sha256(files['secret/key.pem']!.content)} 600`);
    expect(uploaded['secret/']).toBe('dir 700');
    expect(uploaded['empty dir/']).toBeDefined();
    expect(Object.keys(uploaded)).toContain(`it's "quoted" $(id).txt`);

    // Entries: every file and directory under the source; the directory itself ('.') is not packed.
    expect(result.entries).toBe(Object.keys(uploaded).length);
    expect(result.bytes).toBeGreaterThan(1_500_000);
    expect(progress.length).toBeGreaterThan(1); // 1.5 MB goes out in several 64 KiB steps
    expect(progress.at(-1)).toEqual(result);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.bytes).toBeGreaterThanOrEqual(progress[i - 1]!.bytes);
  });

  it('uploads again over an existing tree, changing nothing', async () => {
    const target = join(root, 'twice');
    await host.putDir(source, target);
    const first = await snapshot(target);
    await host.putDir(source, target);
    expect(await snapshot(target)).toEqual(first);
  });

  it('leaves out what the filter rejects', async () => {
    const target = join(root, 'filtered');
    await host.putDir(source, target, { filter: (path) => !path.includes('secret') });
    const uploaded = await snapshot(target);
    expect(Object.keys(uploaded).some((path) => path.includes('secret'))).toBe(false);
    expect(uploaded['index.html']).toBeDefined();
  });

  it('gives the filter every path relative to the directory, without ./', async () => {
    const seen: string[] = [];
    const result = await host.putDir(source, join(root, 'filter-paths'), {
      filter: (path) => {
        seen.push(path);
        return true;
      },
    });
    // Exactly the entries of the tree, spelled as the snapshot spells them (no trailing / for dirs).
    const expected = Object.keys(await snapshot(source)).map((path) => path.replace(/\/$/, ''));
    expect([...new Set(seen)].sort()).toEqual(expected.sort());
    expect(seen).toContain('bin/run.sh');
    expect(seen).toContain('ünïcødé 🚀/部署.txt');
    expect(seen.filter((path) => path.startsWith('.') || path.startsWith('/') || path === '')).toEqual([]);
    expect(result.entries).toBe(expected.length);
  });

  it("leaves the target directory's own mode alone", async () => {
    const from = await mkdtemp(join(tmpdir(), 'deployr-putdir-mode-')); // 0700, as mkdtemp makes it
    try {
      await writeFile(join(from, 'file.txt'), 'x');
      expect((await stat(from)).mode & 0o777).toBe(0o700);
      const target = join(root, 'mode-kept');
      await mkdir(target);
      await chmod(target, 0o755);
      await host.putDir(from, target);
      expect((await stat(target)).mode & 0o7777).toBe(0o755);
      expect(await readFile(join(target, 'file.txt'), 'utf8')).toBe('x');
      // The other way round too: a 0755 source does not widen a 0750 target.
      const narrow = join(root, 'mode-kept-narrow');
      await mkdir(narrow);
      await chmod(narrow, 0o750);
      await chmod(from, 0o755);
      await host.putDir(from, narrow);
      expect((await stat(narrow)).mode & 0o7777).toBe(0o750);
    } finally {
      await rm(from, { recursive: true, force: true });
    }
  });

  it('creates a missing target for an empty directory, with no entries', async () => {
    const from = join(root, 'empty-source');
    await mkdir(from);
    const target = join(root, 'from-empty', 'deeper');
    expect(await host.putDir(from, target)).toEqual({ entries: 0, bytes: 0 });
    expect((await stat(target)).isDirectory()).toBe(true);
    expect(await readdir(target)).toEqual([]);
  });

  it('throws TransferError naming a local file that cannot be read, instead of uploading part of the tree', async () => {
    const from = await mkdtemp(join(tmpdir(), 'deployr-putdir-unreadable-'));
    try {
      await writeFile(join(from, 'a.txt'), 'a');
      await writeFile(join(from, 'vanishing.txt'), 'gone before it is read');
      await writeFile(join(from, 'z.txt'), 'z');
      // The filter runs between node-tar's stat and its open: removing the file there makes the read fail, every time.
      const filter = (path: string): boolean => {
        if (path === 'vanishing.txt') rmSync(join(from, path));
        return true;
      };
      const error = (await host.putDir(from, join(root, 'unreadable'), { filter }).catch((caught: unknown) => caught)) as TransferError;
      expect(error).toBeInstanceOf(TransferError);
      expect(error.message).toContain('local-test');
      expect(error.message).toContain(`cannot read ${join(from, 'vanishing.txt')}`);
      expect(error.cause).toMatchObject({ code: 'ENOENT' });
      expect(error.hint).toBeDefined();
    } finally {
      await rm(from, { recursive: true, force: true });
    }
  });

  it('throws TransferError for a missing local directory', async () => {
    const error = await host.putDir(join(root, 'no-such-dir'), join(root, 'x')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransferError);
    expect((error as TransferError).message).toContain('no-such-dir');
    expect((error as TransferError).hint).toBeDefined();
  });
});

describe('files through Host', () => {
  it('writeFile then readFile round-trips text, with the mode and no temporary file left', async () => {
    const dir = join(root, 'conf dir');
    await host.mkdirp(dir);
    const content = `key=value\nquote='it''s' "x" $HOME\nunicode=ünï 🚀\n`;
    await host.writeFile(join(dir, 'app.env'), content, { mode: 0o600 });
    expect(await host.readFile(join(dir, 'app.env'))).toBe(content);
    expect(await readFile(join(dir, 'app.env'), 'utf8')).toBe(content);
    expect((await stat(join(dir, 'app.env'))).mode & 0o7777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['app.env']);
  });

  it('writeFile replaces an existing file and accepts a Buffer', async () => {
    const file = join(root, 'replace.bin');
    await writeFile(file, 'old');
    const bytes = randomBytes(10_000);
    await host.writeFile(file, bytes);
    expect(sha256(await readFile(file))).toBe(sha256(bytes));
    expect((await stat(file)).mode & 0o7777).toBe(0o644);
  });

  it('writeFile into a missing directory throws and leaves nothing behind', async () => {
    await expect(host.writeFile(join(root, 'missing-dir', 'x'), 'x')).rejects.toBeInstanceOf(CommandError);
    await expect(stat(join(root, 'missing-dir'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('readFile of a missing file throws a CommandError naming it', async () => {
    await expect(host.readFile(join(root, 'nope.txt'))).rejects.toThrow(/nope\.txt/);
  });

  it('exists, which and mkdirp', async () => {
    const nested = join(root, 'a b', "c'd", 'e');
    expect(await host.exists(nested)).toBe(false);
    await host.mkdirp(nested);
    await host.mkdirp(nested); // again: no error
    expect((await stat(nested)).isDirectory()).toBe(true);
    expect(await host.exists(nested)).toBe(true);
    expect(await host.which('sh')).toMatch(/^\/.*\/sh$/);
    expect(await host.which('no-such-program-deployr')).toBeNull();
  });

  it('cd runs commands in the directory, relative ones joined', async () => {
    await mkdir(join(root, 'cd test', 'inner'), { recursive: true });
    expect((await host.cd(join(root, 'cd test')).cd('inner').exec('pwd')).stdout).toBe(`${join(root, 'cd test', 'inner')}\n`);
    const elsewhere = new Host(new LocalConnection({ cwd: join(root, 'cd test') }));
    expect((await elsewhere.exec('pwd')).stdout).toBe(`${join(root, 'cd test')}\n`);
  });

  it('a failed cd runs nothing of a script, whatever its shape', async () => {
    const missing = join(root, `missing-${randomInt(1e8, 1e9)}`);
    const error = (await host.cd(missing).exec('echo a; echo b').catch((caught: unknown) => caught)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.stdout).toBe('');
    expect(error.stderr).toMatch(/can't cd|No such file/);
    expect(error.exitCode).not.toBe(0);
    const marker = join(root, 'ran-after-failed-cd');
    const scripts = [
      cmd`echo a; touch ${marker}`,
      cmd`false || touch ${marker}`,
      cmd`touch ${marker} & wait`,
      cmd`touch ${marker} &`,
      cmd`touch ${marker} # with a comment`,
      cmd`echo a
touch ${marker}
`,
    ];
    for (const script of scripts) {
      const result = await host.cd(missing).exec(script, { nothrow: true });
      expect(result.ok, script.display()).toBe(false);
      expect(result.stdout, script.display()).toBe('');
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // a stray background touch would have run by now
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    // A failing prefix stops a grouped script too.
    const prefixed = await host.prefix('false; false').exec(cmd`touch ${marker}; touch ${marker}`, { nothrow: true });
    expect(prefixed.ok).toBe(false);
    await expect(stat(marker)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a grouped script still runs whole when cd works, comments, here-documents and trailing & or ; included', async () => {
    const dir = join(root, 'grouped');
    await mkdir(dir);
    const app = host.cd(dir);
    expect((await app.exec('echo a; echo b')).stdout).toBe('a\nb\n');
    expect((await app.exec('false || echo fallback')).stdout).toBe('fallback\n');
    expect((await app.exec('echo a # a comment; echo not run')).stdout).toBe('a\n');
    expect((await app.exec('echo bg &')).stdout).toBe('bg\n');
    expect((await app.exec('echo a; echo b;')).stdout).toBe('a\nb\n');
    expect((await app.exec('\n  echo one\n  echo two\n')).stdout).toBe('one\ntwo\n');
    expect((await app.exec('cat <<EOF\nheredoc $((1 + 1))\nEOF')).stdout).toBe('heredoc 2\n');
    expect((await app.prefix('X=1; Y=2').exec('echo "$X$Y"; pwd')).stdout).toBe(`12\n${dir}\n`);
    // The exit code is the script's own.
    expect(await app.exec('true; exit 5', { nothrow: true })).toMatchObject({ code: 5 });
  });

  it('env() with an invalid name throws a TypeError at once', () => {
    expect(() => host.env({ 'BAD-NAME': 'x' })).toThrow(TypeError);
  });

  it('env values reach the command literally', async () => {
    const value = `it's $HOME and \`id\``;
    expect((await host.env({ VALUE: value }).exec('printf %s "$VALUE"')).stdout).toBe(value);
  });
});

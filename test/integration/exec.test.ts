// Host.exec over real SSH: exit codes, signals, output streams, stdin, big
// output, many concurrent commands, timeouts/aborts that really kill the
// remote process, error messages, and a host that goes away mid-run.
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, ConnectionError, cmd, secret, type Host, type HostEvent } from '../../core/index.js';
import { hostShell, startHost, stopHost, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetHosts } from './fleet-targets.js';

const tag = randomBytes(4).toString('hex');
const work = `/srv/exec-test-${tag}`;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let fleet: FleetState;
let targets: ReturnType<typeof fleetHosts>;
let h1: Host;

/** Processes on the machine whose command line matches `pattern` (an ERE), listed from inside a fleet host. */
async function remoteProcesses(hostName: string, pattern: string): Promise<string> {
  // The shell running pgrep has the pattern in its command line: an anchored pattern
  // cannot match it, and the bracket trick keeps an unanchored one from matching it.
  const guarded = pattern.startsWith('^') ? pattern : `[${pattern[0]}]${pattern.slice(1)}`;
  const r = await hostShell(fleet, hostName, `pgrep -af '${guarded}' || true`);
  return r.stdout.trim();
}

/** Polls until no process matches (bounded: a kill takes well under a second); returns what is left. */
async function gone(hostName: string, pattern: string, withinMs = 5000): Promise<string> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const left = await remoteProcesses(hostName, pattern);
    if (!left || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  fleet = useFleet();
  targets = fleetHosts(fleet);
  h1 = targets.host('h1');
  await h1.mkdirp(work);
});

afterAll(async () => {
  await h1?.exec(cmd`rm -rf -- ${work}`, { nothrow: true });
  await targets?.close();
});

/** After a test broke a host on purpose, a fresh connection must work again (other files use it). */
async function expectReachableAgain(name: string): Promise<void> {
  const after = fleetHosts(fleet);
  try {
    expect((await after.host(name).exec('echo back')).stdout).toBe('back\n');
  } finally {
    await after.close();
  }
}

describe('exit codes and signals', () => {
  it('resolves exit 0 with ok, stdout, stderr and a duration', async () => {
    const r = await h1.exec('echo out; echo err >&2');
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', code: 0, signal: null, ok: true });
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it.each([1, 42])('throws CommandError for exit %i, and resolves it with nothrow', async (code) => {
    const error = await h1.exec(`echo partial; exit ${code}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ exitCode: code, signal: null, stdout: 'partial\n', timedOut: false, aborted: false, host: 'h1' });
    expect((error as CommandError).message).toContain(`exit code ${code}`);

    const r = await h1.exec(`echo partial; exit ${code}`, { nothrow: true });
    expect(r).toMatchObject({ code, ok: false, stdout: 'partial\n', signal: null });
  });

  it('reports a command killed by a signal with the signal name', async () => {
    const r = await h1.exec('echo before; kill -TERM $$; echo after', { nothrow: true });
    expect(r).toMatchObject({ code: null, signal: 'SIGTERM', ok: false, stdout: 'before\n' });

    const error = await h1.exec('kill -TERM $$').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ signal: 'SIGTERM', exitCode: null });
    expect((error as Error).message).toContain('killed by SIGTERM');
  });

  it('hints at a missing program for exit 127', async () => {
    const error = (await h1.exec(`no-such-program-${tag}`).catch((e: unknown) => e)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.exitCode).toBe(127);
    expect(error.hint).toMatch(/not found/);
  });
});

describe('output', () => {
  it('keeps stderr apart from stdout, interleaved writes included', async () => {
    const r = await h1.exec('for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done');
    expect(r.stdout).toBe('out 1\nout 2\nout 3\n');
    expect(r.stderr).toBe('err 1\nerr 2\nerr 3\n');
  });

  it('streams output to the callbacks while the command is still running', async () => {
    // The command prints, then waits for a file that the test creates only after
    // the callback saw that output: without streaming it would print "no-stream".
    const gate = `${work}/gate-${randomBytes(3).toString('hex')}`;
    const seen: Array<{ stream: string; text: string; at: 'running' | 'done' }> = [];
    let done = false;
    let opened: Promise<unknown> | undefined;
    const r = await h1.exec(
      cmd`echo first; echo warn >&2; i=0; while [ ! -e ${gate} ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; [ -e ${gate} ] && echo second || echo no-stream`,
      {
        onStdout: (text) => {
          seen.push({ stream: 'stdout', text, at: done ? 'done' : 'running' });
          if (text.includes('first') && !opened) opened = h1.exec(cmd`touch ${gate}`);
        },
        onStderr: (text) => seen.push({ stream: 'stderr', text, at: done ? 'done' : 'running' }),
      },
    );
    done = true;
    await opened;
    expect(r.stdout).toBe('first\nsecond\n');
    expect(r.stderr).toBe('warn\n');
    expect(seen.every((s) => s.at === 'running')).toBe(true);
    expect(seen.filter((s) => s.stream === 'stdout').map((s) => s.text).join('')).toBe(r.stdout);
    expect(seen.filter((s) => s.stream === 'stderr').map((s) => s.text).join('')).toBe(r.stderr);
  });

  it('delivers 10 MB of output intact (text through Host, binary through the connection)', async () => {
    const textFile = `${work}/big.txt`;
    const binFile = `${work}/big.bin`;
    // 7.5 MiB of random bytes → ~10 MB of base64 text.
    await h1.exec(cmd`head -c 7864320 /dev/urandom | base64 > ${textFile} && head -c 10485760 /dev/urandom > ${binFile}`);
    const remote = (await h1.exec(cmd`sha256sum ${textFile} ${binFile}`)).stdout.split('\n').map((l) => l.split(' ')[0]);

    let chunks = 0;
    const text = await h1.exec(cmd`cat ${textFile}`, { onStdout: () => (chunks += 1) });
    expect(text.stdout.length).toBeGreaterThan(10_000_000);
    expect(sha256(text.stdout)).toBe(remote[0]);
    expect(chunks).toBeGreaterThan(1);

    const bin = await h1.connection.exec(cmd`cat ${binFile}`);
    expect(bin.code).toBe(0);
    expect(bin.stdout.length).toBe(10485760);
    expect(sha256(bin.stdout)).toBe(remote[1]);
  });

  it('keeps multi-byte UTF-8 characters whole across chunk boundaries', async () => {
    // 200k × "é" (2 bytes) = 400 kB: many SSH packets, odd chunk boundaries.
    const r = await h1.exec(`awk 'BEGIN { for (i = 0; i < 200000; i++) printf "é" }'`);
    expect(r.stdout.length).toBe(200000);
    expect(r.stdout).toBe('é'.repeat(200000));
  });
});

describe('stdin', () => {
  it('accepts a string', async () => {
    const r = await h1.exec('cat', { stdin: 'line 1\nlíne 2 ✓\n' });
    expect(r.stdout).toBe('line 1\nlíne 2 ✓\n');
  });

  it('accepts a Buffer with every byte value', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i % 256));
    const r = await h1.exec('od -An -v -tx1 | tr -d " \\n"', { stdin: bytes });
    expect(r.stdout).toBe(bytes.toString('hex'));
  });

  it('accepts a stream, ending stdin when the stream ends', async () => {
    async function* slow() {
      for (let i = 0; i < 5; i += 1) {
        yield `chunk ${i}\n`;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const r = await h1.exec('cat; echo EOF', { stdin: Readable.from(slow()) });
    expect(r.stdout).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\nEOF\n');
  });

  it('passes 4 MB of stdin through unchanged', async () => {
    const data = randomBytes(4 * 1024 * 1024);
    const r = await h1.exec('sha256sum', { stdin: Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]) });
    expect(r.stdout.split(' ')[0]).toBe(sha256(data));
  });

  it('a stream that fails stops the command: CommandError naming the host and the error, not a lost connection', async () => {
    const failure = new Error('the local source broke');
    const stream = new PassThrough();
    stream.write('first line\n');
    const error = (await h1
      .exec('cat; echo finished', { stdin: stream, onStdout: (text) => text.includes('first') && stream.destroy(failure) })
      .catch((e: unknown) => e)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).not.toBeInstanceOf(ConnectionError);
    expect(error.cause).toBe(failure);
    expect(error.host).toBe('h1');
    expect(error.message).toContain('h1');
    expect(error.message).toContain('the local source broke');
    expect(error.message).not.toMatch(/connection lost/);
    expect(error.stdout).toBe('first line\n'); // stopped: never handed an early end of input
    expect((await h1.exec('echo still usable')).stdout).toBe('still usable\n');
  });

  it('a stream that fails while the connection is still being made fails the command, and crashes nothing', async () => {
    const own = fleetHosts(fleet);
    try {
      const h = own.host('h1'); // not connected yet
      const stream = new PassThrough();
      const running = h.exec('cat', { stdin: stream }).catch((e: unknown) => e);
      stream.destroy(new Error('failed before the connection was up'));
      const error = await running;
      expect(error).toBeInstanceOf(CommandError);
      expect(error).toMatchObject({ host: 'h1', cause: { message: 'failed before the connection was up' } });
      expect((await h.exec('echo up')).stdout).toBe('up\n');
    } finally {
      await own.close();
    }
  });

  it('gives a command without stdin an immediate EOF (does not hang)', async () => {
    const r = await h1.exec('cat; echo done', { timeout: 10_000 });
    expect(r.stdout).toBe('done\n');
  });
});

describe('concurrency', () => {
  /**
   * Starts `count` commands at once on `h`; each one counts, on the host, how
   * many of them are running at that moment (a file per running shell in
   * `dir`, removed before it exits, so a file stands for an open session).
   * Checks every command succeeded; returns the counts.
   */
  async function concurrencyOnHost(h: Host, dir: string, count: number): Promise<number[]> {
    await h.mkdirp(dir);
    const results = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        h.exec(cmd`touch ${dir}/$$ && n=$(ls ${dir} | wc -l) && sleep 0.05 && rm ${dir}/$$ && echo ${`job-${i}`} $n`),
      ),
    );
    const counts = results.map((r, i) => {
      const [job, n] = r.stdout.trim().split(' ');
      expect(job).toBe(`job-${i}`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return Number(n);
    });
    expect((await h.exec(cmd`ls -A ${dir}`)).stdout).toBe(''); // every command ran to its end
    return counts;
  }

  // A cap well under sshd's MaxSessions (10): were it ignored, sshd's own limit could not hide it.
  it('runs 200 commands started at once on one host, never more at a time than maxChannels (3)', async () => {
    const own = fleetHosts(fleet);
    try {
      const counts = await concurrencyOnHost(own.host('h1', { maxChannels: 3 }), `${work}/concurrency-3`, 200);
      expect(Math.max(...counts)).toBeLessThanOrEqual(3); // the cap
      expect(Math.max(...counts)).toBeGreaterThanOrEqual(2); // ...and they did run in parallel
    } finally {
      await own.close();
    }
  });

  it('with the default maxChannels (8), 200 commands never run more than 8 at a time', async () => {
    const counts = await concurrencyOnHost(h1, `${work}/concurrency-default`, 200);
    expect(Math.max(...counts)).toBeLessThanOrEqual(8); // under sshd's MaxSessions 10
    expect(Math.max(...counts)).toBeGreaterThan(3); // the cap of the test above was its own setting
  });

  it('runs commands on several hosts at once over separate connections', async () => {
    const names = fleet.hosts.slice(0, 3).map((h) => h.name);
    const results = await Promise.all(names.map((name) => targets.host(name).exec('echo "$SSH_CONNECTION"')));
    results.forEach((r, i) => {
      const address = fleet.hosts[i]!.address;
      expect(r.stdout.trim().split(' ')[2]).toBe(address);
    });
  });
});

describe('timeouts and aborts', () => {
  it('throws a timedOut CommandError in bounded time and kills the remote command', async () => {
    const sleeper = `sleep 987.${Math.floor(Math.random() * 1e6)}`;
    const started = Date.now();
    const error = (await h1.exec(`echo started; ${sleeper}; echo never`, { timeout: 500 }).catch((e: unknown) => e)) as CommandError;
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ timedOut: true, aborted: false, stdout: 'started\n' });
    expect(error.message).toContain('timed out on h1');
    expect(error.hint).toMatch(/timeout/);
    expect(elapsed).toBeLessThan(5000); // does not hang
    expect(await gone('h1', sleeper)).toBe('');
  });

  it('a timeout kills the whole remote process tree (subshells in a pipeline)', async () => {
    const n = Math.floor(Math.random() * 1e6);
    const pattern = `^sleep 98[56]\\.${n}`;
    const running = h1.exec(`(sleep 986.${n}; echo a) | (sleep 985.${n}; cat)`, { timeout: 1500 }).catch((e: unknown) => e);
    // Both sleeps run before the timeout fires (poll briefly: they start within milliseconds).
    let seen = '';
    for (let i = 0; i < 10 && seen.split('\n').length < 2; i += 1) seen = await remoteProcesses('h1', pattern);
    expect(seen.split('\n')).toHaveLength(2);
    expect(await running).toMatchObject({ timedOut: true });
    expect(await gone('h1', pattern)).toBe('');
  });

  it('defaultTimeout from HostOptions applies, and a per-command timeout overrides it', async () => {
    const h = targets.host('h1', {}, { defaultTimeout: 300 });
    await expect(h.exec('sleep 5')).rejects.toMatchObject({ timedOut: true });
    await expect(h.exec('sleep 0.5; echo ok', { timeout: 10_000 })).resolves.toMatchObject({ stdout: 'ok\n' });
  });

  it('an AbortSignal aborts a running command: CommandError(aborted), remote command gone', async () => {
    const sleeper = `sleep 984.${Math.floor(Math.random() * 1e6)}`;
    const controller = new AbortController();
    const started = Date.now();
    const error = (await h1
      .exec(`echo started; ${sleeper}`, {
        signal: controller.signal,
        onStdout: (text) => text.includes('started') && controller.abort(),
      })
      .catch((e: unknown) => e)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ aborted: true, timedOut: false });
    expect(error.message).toContain('was aborted on h1');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await gone('h1', sleeper)).toBe('');
    // nothrow does not swallow an abort: the caller asked to stop.
    const again = new AbortController();
    setTimeout(() => again.abort(), 200);
    await expect(h1.exec('sleep 5', { signal: again.signal, nothrow: true })).rejects.toMatchObject({ aborted: true });
  });

  it('a timed-out `sleep | cat; sleep` leaves nothing behind: not the pipeline, not the next command', async () => {
    const n = Math.floor(Math.random() * 1e6);
    const pattern = `^sleep 30[01]\\.${n}$`;
    // The command prints its own tag, so the host can be searched for anything still carrying it.
    const running = h1.exec(`echo "$DEPLOYR_CMD"; sleep 300.${n} | cat; sleep 301.${n}`, { timeout: 1_500 }).catch((e: unknown) => e);
    let seen = '';
    for (let i = 0; i < 20 && !seen; i += 1) seen = await remoteProcesses('h1', `^sleep 300\\.${n}$`);
    expect(seen).not.toBe('');
    const started = Date.now();
    const error = (await running) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ timedOut: true, aborted: false });
    expect(Date.now() - started).toBeLessThan(5_000);
    const tag = error.stdout.trim();
    expect(tag).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await gone('h1', pattern)).toBe('');
    const carrying = async () =>
      (await hostShell(fleet, 'h1', `grep -lzxF DEPLOYR_CMD=${tag} /proc/[0-9]*/environ 2>/dev/null || true`)).stdout.trim();
    expect(await carrying()).toBe(''); // cat included
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await carrying()).toBe(''); // and nothing started since
    expect(await remoteProcesses('h1', pattern)).toBe('');
  });

  it('every command carries its own tag in $DEPLOYR_CMD, which the logged command does not show', async () => {
    const events: HostEvent[] = [];
    const h = targets.host('h1', {}, { onEvent: (e) => events.push(e) });
    const [a, b] = await Promise.all([h.exec('printf %s "$DEPLOYR_CMD"'), h.cd(work).exec('printf %s "$DEPLOYR_CMD"')]);
    expect(a.stdout).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.stdout).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.stdout).not.toBe(b.stdout);
    const shown = events.flatMap((e) => (e.type === 'command:start' ? [e.command] : []));
    expect(shown.sort()).toEqual([`cd ${work} && printf %s "$DEPLOYR_CMD"`, 'printf %s "$DEPLOYR_CMD"'].sort());
  });

  it('a command stopped while queued for a channel fails at once with CommandError, never having run', async () => {
    const own = fleetHosts(fleet);
    try {
      const h = own.host('h1', { maxChannels: 1 });
      await h.exec('true'); // connected
      const n = Math.floor(Math.random() * 1e6);
      const blocker = new AbortController();
      const holding = h.exec(`sleep 974.${n}`, { signal: blocker.signal }).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const marker = `${work}/queued-ran-${n}`;

      let started = Date.now();
      const timedOut = (await h.exec(cmd`touch ${marker}`, { timeout: 300 }).catch((e: unknown) => e)) as CommandError;
      expect(Date.now() - started).toBeLessThan(2_000); // the deadline counts queue time, and nothing waits for a channel after it
      expect(timedOut).toBeInstanceOf(CommandError);
      expect(timedOut).toMatchObject({ timedOut: true, aborted: false, exitCode: null });

      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      started = Date.now();
      const aborted = await h.exec(cmd`touch ${marker}`, { signal: controller.signal }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(aborted).toBeInstanceOf(CommandError);
      expect(aborted).not.toBeInstanceOf(DOMException);
      expect(aborted).toMatchObject({ aborted: true, timedOut: false });

      blocker.abort();
      expect(await holding).toMatchObject({ aborted: true });
      expect(await gone('h1', `^sleep 974\\.${n}$`)).toBe('');
      expect((await h.exec('echo free')).stdout).toBe('free\n'); // the channel is free again
      expect(await h.exists(marker)).toBe(false);
    } finally {
      await own.close();
    }
  });

  // The kill sweeps take the next free channel ahead of every queued command
  // (urgent), so with the channels busy a timeout is still reported promptly.
  it('a timeout is reported in bounded time even while other commands wait for channels', async () => {
    const own = fleetHosts(fleet);
    try {
      const h = own.host('h1', { maxChannels: 2 });
      await h.exec('true');
      const n = Math.floor(Math.random() * 1e6);
      const busy = h.exec(`sleep 6.${n}`, { nothrow: true });
      const started = Date.now();
      const victim = h.exec(`sleep 973.${n}`, { timeout: 300 }).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const queued = Array.from({ length: 4 }, () => h.exec('sleep 2', { nothrow: true }));
      const error = (await victim) as CommandError;
      const elapsed = Date.now() - started;
      await Promise.all([busy, ...queued]);
      expect(error).toMatchObject({ timedOut: true });
      expect(elapsed).toBeLessThan(3_000);
    } finally {
      await own.close();
    }
  });

  it('the connection stays usable after timeouts and aborts', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => h1.exec(`echo ${i}`)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
  });
});

describe('CommandError', () => {
  it('names host, masked command, exit code and the stderr tail, and never the secret', async () => {
    const value = `hunter2-${tag}`;
    const token = secret(value, 'api token');
    const events: HostEvent[] = [];
    const h = targets.host('h1', {}, { onEvent: (e) => events.push(e) });
    const script = cmd`printf '%s\\n' ${token} >&2; for i in $(seq 1 20); do echo "noise $i" >&2; done; echo "last words: ${token}" >&2; echo ${token}; exit 3`;
    const error = (await h.exec(script).catch((e: unknown) => e)) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.code).toBe('COMMAND_ERROR');
    expect(error.host).toBe('h1');
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/^Command failed with exit code 3 on h1: printf '%s\\n' \*\*\* >&2;/);
    expect(error.message).toContain('noise 20');
    expect(error.message).toContain('last words: ***');
    expect(error.message).not.toContain('noise 1\n'); // only a tail of stderr
    expect(error.command).toContain('***');
    expect(error.stdout).toBe('***\n');

    const everything = [error.message, error.describe(), error.command, error.stdout, error.stderr, inspect(error), JSON.stringify(error), JSON.stringify(events)];
    for (const text of everything) expect(text).not.toContain(value);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['command:start', 'command:output', 'command:end']));
  });

  it('masks a secret in the env of a cd/env context too', async () => {
    const value = `s3cret-${tag}`;
    const error = (await h1
      .cd(work)
      .env({ TOKEN: secret(value) })
      .exec('echo "token is $TOKEN" >&2; exit 1')
      .catch((e: unknown) => e)) as CommandError;
    expect(error.message).toContain('TOKEN=***');
    expect(error.message).toContain('token is ***');
    expect(error.message).not.toContain(value);
  });
});

describe('a host that goes away', () => {
  // The last host is used only by this file: stopping it cannot disturb other tests.
  let name: string;
  beforeAll(() => {
    name = fleet.hosts[fleet.hosts.length - 1]!.name;
  });
  afterAll(async () => {
    await startHost(fleet, name);
  });

  it('a lost connection fails the running and the next command with ConnectionError; a stopped sshd refuses new connections', async () => {
    const own = fleetHosts(fleet);
    try {
      const h = own.host(name);
      expect((await h.exec('echo up')).stdout).toBe('up\n');

      const running = h.exec(`sleep 30`).catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      await stopHost(fleet, name);
      // sshd's per-connection processes survive the listener: kill them, as a reboot would.
      const killed = await hostShell(
        fleet,
        name,
        `pids=$(ss -Htnp state established '( sport = :${hostPort(name)} )' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); ` +
          '[ -n "$pids" ] && kill $pids; echo "$pids"',
      );
      expect(killed.stdout.trim()).not.toBe('');

      const runningError = await running;
      expect(runningError).toBeInstanceOf(ConnectionError);
      expect((runningError as Error).message).toContain(name);
      const next = await h.exec('echo again').catch((e: unknown) => e);
      expect(next).toBeInstanceOf(ConnectionError);
      expect((next as ConnectionError).hint).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(10_000);

      const fresh = await own.host(name).exec('true').catch((e: unknown) => e);
      expect(fresh).toBeInstanceOf(ConnectionError);
      expect((fresh as Error).message).toMatch(/refused/);
      expect((fresh as ConnectionError).host).toBe(name);
    } finally {
      await startHost(fleet, name);
      await own.close();
    }
    await expectReachableAgain(name);
  });

  it('a command that times out on a silently dead link is reported within seconds, not when keepalives give up', async (ctx) => {
    if (fleet.mode !== 'netns') ctx.skip();
    const own = fleetHosts(fleet);
    try {
      const h = own.host(name); // default keepalives: 15 s × 3 before the link counts as dead
      expect((await h.exec('echo up')).stdout).toBe('up\n');
      const started = Date.now();
      let running: Promise<unknown> = Promise.resolve();
      await new Promise<void>((resolve) => {
        running = h.exec('echo started; sleep 30', { timeout: 1_000, onStdout: () => resolve() }).catch((e: unknown) => e);
      });
      const down = await hostShell(fleet, name, 'ip link set eth0 down');
      expect(down.code, down.stderr).toBe(0);
      try {
        // Without a bound, this waits for the keepalives (45 s): fail clearly well before that.
        const error = await Promise.race([running, new Promise((resolve) => setTimeout(() => resolve('still waiting after 15 s'), 15_000))]);
        expect(error).toBeInstanceOf(CommandError);
        expect(error).toMatchObject({ timedOut: true, host: name });
        // The kill is lost on the dead link: the close is given up on after two grace periods, the sweeps after 5 s.
        expect(Date.now() - started).toBeLessThan(12_000);
      } finally {
        const up = await hostShell(fleet, name, 'ip link set eth0 up');
        expect(up.code, up.stderr).toBe(0);
      }
    } finally {
      await own.close();
    }
    await expectReachableAgain(name);
  });

  it('a silent network drop is detected by keepalives: ConnectionError, not a hang', async (ctx) => {
    if (fleet.mode !== 'netns') ctx.skip();
    const own = fleetHosts(fleet);
    try {
      const h = own.host(name, { keepaliveInterval: 300, keepaliveCountMax: 2 });
      expect((await h.exec('echo up')).stdout).toBe('up\n');
      const running = h.exec('sleep 30').catch((e: unknown) => e);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = Date.now();
      const down = await hostShell(fleet, name, 'ip link set eth0 down');
      expect(down.code, down.stderr).toBe(0);
      try {
        const error = await running;
        expect(error).toBeInstanceOf(ConnectionError);
        expect(Date.now() - started).toBeLessThan(10_000);
        await expect(h.exec('true')).rejects.toBeInstanceOf(ConnectionError);
      } finally {
        const up = await hostShell(fleet, name, 'ip link set eth0 up');
        expect(up.code, up.stderr).toBe(0);
      }
    } finally {
      await own.close();
    }
    await expectReachableAgain(name);
  });
});

function hostPort(name: string): number {
  return fleet.hosts.find((h) => h.name === name)!.port;
}

import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { DeployrEvent } from '../../core/engine/events.js';
import { createLiveView, type LiveViewOptions } from '../../core/output/live.js';
import { commandError, Events, FakeTty, Sink, stripAnsi } from './helpers.js';

/** The frames drawn, each as its lines without colours (a frame starts after the erase of the last one). */
function frames(tty: FakeTty): string[][] {
  return tty.text
    .split('\x1b[G')
    .map((chunk) => stripAnsi(chunk).split('\n').filter(Boolean));
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function view(options: Partial<LiveViewOptions> = {}) {
  const tty = new FakeTty();
  const stderr = new Sink();
  const live = createLiveView({ stream: tty, stderr, ...options });
  const feed = (events: DeployrEvent[]) => events.forEach((event) => live.listener(event));
  return { tty, stderr, live, feed };
}

describe('live view', () => {
  it('ends with a frame of every host marked ✔ or ✖, the run row last, and no timers left', async () => {
    const before = timers();
    const { tty, live, feed } = view();
    const e = new Events();
    const hosts = ['web-1', 'web-2', 'web-3', 'db-1', 'db-2'];
    feed([e.runStart(hosts)]);
    for (const host of hosts) feed(e.connect(host));
    await sleep(150);
    for (const host of hosts) {
      const failed = host === 'db-2';
      feed(
        e.task(host, 'upload', () => e.command(host, 'c1', 'tar -x', ['one\n', 'two\n']), failed ? { status: 'failed', error: commandError(host) } : {}),
      );
    }
    await sleep(150);
    feed([e.runEnd([{ host: 'db-2', task: 'upload', error: commandError('db-2') }])]);
    await live.done();

    const last = frames(tty).at(-1)!;
    expect(last).toEqual([
      '✔ web-1  done',
      '✔ web-2  done',
      '✔ web-3  done',
      '✔ db-1   done',
      '✖ db-2   upload: Command failed with exit code 128 on db-2: git fetch origin',
      '✖ deploy → prod: 5 hosts · 4 done, 1 failed · 4.1s',
    ]);
    expect(tty.text.endsWith('\x1b[?25h')).toBe(true); // cursor shown again
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('shows each host’s task and last output line while running, within the terminal width', async () => {
    const { tty, live, feed } = view();
    const e = new Events();
    feed([e.runStart(['web-1', 'a-much-longer-host-name'])]);
    feed([
      e.event('task:start', { host: 'web-1', task: 'build' }),
      e.event('command:start', { host: 'web-1', id: 'c1', command: 'npm ci' }),
      e.event('command:output', { host: 'web-1', id: 'c1', stream: 'stdout', text: `added 1 package\n\x1b[31mred\x1b[0m ${'x'.repeat(200)}\n\n` }),
      e.event('task:start', { host: 'a-much-longer-host-name', task: 'build' }),
      e.event('command:start', { host: 'a-much-longer-host-name', id: 'c1', command: 'make -j8' }),
      e.event('command:output', { host: 'a-much-longer-host-name', id: 'c1', stream: 'stderr', text: ' 10%\r 42%' }),
    ]);
    await sleep(250);
    const running = frames(tty).at(-1)!;
    expect(running[0]).toMatch(/^\S web-1 {20}build {2}red x+…$/);
    expect(running[1]).toMatch(/^\S a-much-longer-host-name {2}build {2}42%$/);
    for (const line of running) expect(line.length).toBeLessThanOrEqual(tty.columns - 1);
    feed([e.runEnd()]);
    await live.done();
  });

  it('prints warnings, errors and info logs above the rows and holds other stderr writes until the end', async () => {
    const { tty, stderr, live, feed } = view();
    const e = new Events();
    feed([e.runStart(['web-1'])]);
    await sleep(120);
    stderr.write('stray write\n'); // e.g. a library printing while we draw
    feed([
      e.event('warning', { host: 'web-1', message: 'disk 91% full' }),
      e.event('log', { level: 'info', message: 'deploying abc123' }),
      e.event('log', { host: 'web-1', level: 'debug', message: 'not shown' }),
      e.event('error', { host: 'web-1', error: { name: 'Error', code: 'ERROR', message: 'boom\nstack' } }),
    ]);
    live.notice('stopping…');
    expect(stderr.text).toBe('');
    await sleep(120);
    feed([e.runEnd()]);
    await live.done();

    const text = stripAnsi(tty.text);
    const above = ['[web-1] ⚠ disk 91% full', '[deployr] ℹ deploying abc123', '[web-1] ✖ boom', 'stopping…'].join('\n');
    expect(text).toContain(`${above}\n`);
    expect(text).not.toContain('not shown');
    expect(text.indexOf(above)).toBeLessThan(text.lastIndexOf('✔ web-1'));
    expect(stderr.text).toBe('stray write\n');
    // Both streams have their own write() back.
    expect(tty.write).toBe(Writable.prototype.write);
    expect(stderr.write).toBe(Writable.prototype.write);
  });

  it('beyond the terminal height shows running and failed hosts up to a cap and counts the rest', async () => {
    const { tty, live, feed } = view({ maxRows: 12 });
    const e = new Events();
    const hosts = Array.from({ length: 150 }, (_, i) => `web-${String(i + 1).padStart(3, '0')}`);
    feed([e.runStart(hosts)]);
    feed(hosts.slice(0, 40).flatMap((host) => [...e.connect(host), e.event('task:start', { host, task: 'upload' })]));
    await sleep(150);
    const during = frames(tty).at(-1)!;
    expect(during).toHaveLength(12);
    expect(during.slice(0, 11).every((row) => /web-0\d\d {2}upload$/.test(row))).toBe(true);
    expect(during[11]!.slice(2)).toBe('deploy → prod: 150 hosts · 40 running, 110 waiting · 139 not shown');

    const failures = ['web-003', 'web-140'].map((host) => ({ host, task: 'upload', error: commandError(host) }));
    // web-140 fails while every row is taken: it is printed above the rows instead.
    feed(e.task('web-140', 'upload', () => [], { status: 'failed', error: commandError('web-140') }));
    feed([e.event('task:end', { host: 'web-003', task: 'upload', status: 'failed', durationMs: 5, error: commandError('web-003') })]);
    for (const host of hosts.slice(0, 40)) {
      if (host !== 'web-003') feed([e.event('task:end', { host, task: 'upload', status: 'ok', durationMs: 5 })]);
    }
    feed([e.runEnd(failures)]);
    await live.done();

    const rows = frames(tty).map((frame) => frame.filter((line) => !line.startsWith('[')));
    // Once rows free up, failed hosts take them: the final frame shows every failure that fits.
    expect(rows.at(-1)).toEqual([
      '✖ web-003  upload: Command failed with exit code 128 on web-003: git fetch origin',
      '✖ web-140  upload: Command failed with exit code 128 on web-140: git fetch origin',
      '✖ deploy → prod: 150 hosts · 148 done, 2 failed · 4.1s',
    ]);
    expect(stripAnsi(tty.text)).toContain('[web-140] ✖ upload: Command failed with exit code 128 on web-140: git fetch origin\n');
    for (const frame of rows) expect(frame.length).toBeLessThanOrEqual(12);
  });

  it('draws at most one frame per interval however many events arrive', async () => {
    const { tty, live, feed } = view({ frameMs: 100 });
    const e = new Events();
    const hosts = Array.from({ length: 20 }, (_, i) => `h${i}`);
    feed([e.runStart(hosts)]);
    await sleep(120);
    const drawn = () => tty.chunks.length;
    const start = drawn();
    for (let i = 0; i < 5000; i++) {
      feed([e.event('command:output', { host: hosts[i % 20]!, id: 'c', stream: 'stdout', text: `line ${i}\n` })]);
    }
    expect(drawn()).toBe(start); // nothing drawn synchronously
    await sleep(250);
    expect(drawn() - start).toBeLessThanOrEqual(4);
    feed([e.runEnd()]);
    await live.done();
  });

  it('ends as interrupted when done() comes before run:end, and at once when no run started', async () => {
    const idle = view();
    await idle.live.done();
    expect(idle.tty.text).toBe('');

    const { tty, live, feed } = view();
    const e = new Events();
    feed([e.runStart(['web-1', 'web-2']), ...e.connect('web-1'), e.event('task:start', { host: 'web-1', task: 'upload' })]);
    await live.done();
    const last = frames(tty).at(-1)!;
    expect(last[0]).toBe('↓ web-1  interrupted');
    expect(last[1]).toBe('↓ web-2  interrupted');
    expect(last[2]).toMatch(/^↓ deploy → prod: 2 hosts · 2 interrupted · \d+ms$/);
  });

  it('never throws into the event bus when the terminal stream fails', async () => {
    class Broken extends Writable {
      isTTY = true;
      columns = 80;
      override _write(_chunk: unknown, _encoding: string, callback: (error?: Error) => void) {
        callback(new Error('EIO'));
      }
    }
    const stream = new Broken();
    stream.on('error', () => {});
    const live = createLiveView({ stream, stderr: new Sink() });
    const e = new Events();
    live.listener(e.runStart(['web-1']));
    await sleep(120);
    live.listener(e.runEnd());
    await expect(live.done()).resolves.toBeUndefined();
  });
});

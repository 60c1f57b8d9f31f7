import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type DeployrEvent, type DeployrEventBody } from '../../core/engine/events.js';
import { attachViews, type AttachViewsOptions } from '../../core/output/index.js';
import { commandError, Events, FakeTty, RUN_ID, Sink, stripAnsi } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deployr-attach-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function failedRun(): DeployrEvent[] {
  const e = new Events();
  return [
    e.runStart(['web-1', 'web-2']),
    ...e.task('web-1', 'upload', () => e.command('web-1', 'c1', 'tar -x', ['ok\n'])),
    ...e.task('web-2', 'upload', () => e.command('web-2', 'c1', 'git fetch origin', [], 128), { status: 'failed', error: commandError('web-2') }),
    e.runEnd([{ host: 'web-2', task: 'upload', error: commandError('web-2') }]),
  ];
}

async function attach(options: Partial<AttachViewsOptions> & { tty: boolean }, events = failedRun()) {
  const stdout = options.tty ? new FakeTty() : new Sink();
  const stderr = new Sink();
  const bus = new EventBus();
  const views = attachViews(bus, { stdout, stderr, ...options });
  // EventBus stamps its own time and run id; keep the run id the log files are named after.
  for (const event of events) {
    const { time: _time, runId: _runId, ...body } = event;
    bus.emit(RUN_ID, body as DeployrEventBody);
  }
  await views.close();
  return { views, stdout, stderr, bus };
}

describe('attachViews', () => {
  it('draws the live view on a terminal, plain lines elsewhere and with --verbose or --dry-run', async () => {
    expect((await attach({ tty: true })).views.mode).toBe('live');
    expect((await attach({ tty: false })).views.mode).toBe('plain');
    expect((await attach({ tty: true, verbose: true })).views.mode).toBe('plain');
    expect((await attach({ tty: true, dryRun: true })).views.mode).toBe('plain');
    expect((await attach({ tty: true, json: true })).views.mode).toBe('json');
  });

  it('prints the failure summary on stderr after the plain lines, with the log path', async () => {
    const { views, stdout, stderr } = await attach({ tty: false, logDir: dir });
    expect(stdout.lines.at(-1)).toBe('[deployr] ✖ deploy failed on 1 of 2 hosts in 4.1s');
    const log = join(dir, RUN_ID, 'web-2.log');
    expect(views.logPathFor('web-2')).toBe(log);
    expect(stderr.text).toMatch(/^\n1 host failed:\n\n✖ web-2 — task "upload"\n/);
    expect(stderr.text).toContain(`  log: ${log}\n`);
    expect(readFileSync(log, 'utf8')).toContain('[c1] exit 128 (250ms)');
  });

  it('prints the summary after the live view’s last frame', async () => {
    const { stdout, stderr } = await attach({ tty: true });
    expect(stripAnsi(stdout.text)).toContain('✖ web-2  upload: Command failed');
    expect(stderr.text).toContain('✖ web-2 — task "upload"');
  });

  it('keeps stdout pure NDJSON with --json; the summary goes to stderr', async () => {
    const { stdout, stderr } = await attach({ tty: true, json: true });
    const events = stdout.lines.map((line) => JSON.parse(line) as DeployrEvent);
    expect(events.map((event) => event.type)).toEqual(failedRun().map((event) => event.type));
    expect(stderr.text).toContain('1 host failed:');
  });

  it('prints nothing more after a successful run, and can be closed again', async () => {
    const e = new Events();
    const { views, stderr, stdout, bus } = await attach({ tty: false, logDir: dir }, [e.runStart(['web-1']), e.runEnd()]);
    expect(stderr.text).toBe('');
    bus.emit(RUN_ID, { type: 'warning', message: 'after close' });
    await views.close();
    expect(stdout.text).not.toContain('after close');
  });

  it('reports log files it cannot write as a notice, once', async () => {
    writeFileSync(join(dir, 'file'), '');
    const { stderr } = await attach({ tty: false, logDir: join(dir, 'file', 'logs') });
    expect(stderr.text.match(/could not write the log files/g)).toHaveLength(1);
  });
});

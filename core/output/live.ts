import type { Writable } from 'node:stream';
import { color, Listr, ProcessOutput } from 'listr2';
import type { DeployrEvent, EventListener } from '../engine/events.js';
import { printable } from './columns.js';
import { firstLine } from './format.js';
import { LiveModel, type HostState } from './live-model.js';
import { rowsRenderer } from './live-renderer.js';
import { RowSelection } from './live-rows.js';

export interface LiveViewOptions {
  /** The terminal. Its `columns` and `rows` size the view. */
  stream: Writable;
  /**
   * Held back while the rows are drawn and written after the last frame, so
   * stray writes cannot tear the display. Default: process.stderr.
   */
  stderr?: Writable;
  /** Most rows drawn, the run row included. Default 30, and never more than the terminal's height - 2. */
  maxRows?: number;
  /** Minimum time between two frames. Default 100 ms (at most 10 frames a second). */
  frameMs?: number;
}

export interface LiveView {
  listener: EventListener;
  /** Prints a line above the rows (e.g. "stopping…" after Ctrl-C); plainly when nothing is drawn. */
  notice(text: string): void;
  /**
   * Resolves once listr2 has drawn the final frame and given the streams back.
   * Call it after run:end; called earlier, it ends the view as interrupted.
   */
  done(): Promise<void>;
}

type Outcome = 'ok' | 'failed' | 'interrupted';

interface Deferred {
  promise: Promise<Outcome>;
  settle(outcome: Outcome): void;
}

/** Lines queued above the rows between two frames; more are counted, not kept. */
const MAX_ABOVE = 500;

/**
 * The TTY view: one listr2 task per host (flat: no subtasks, which listr2
 * redraws at great cost), each row showing the host's current task and last
 * output line, ✔/✖ at the end, and a last row with the run's counts.
 * Driven purely by events; listr2 neither decides the exit code nor sees a
 * signal (`registerSignalListeners: false`, `exitOnError: false`).
 *
 * Frames are throttled and cheap (see rowsRenderer). When the hosts do not fit
 * (`maxRows`, the terminal's height), only running hosts and failed hosts
 * get rows, up to the cap, and the run row counts the rest ("87 done,
 * 10 running, 3 failed · 40 not shown"); a failure whose row is not shown is
 * printed above the rows. Warnings, errors and info logs are printed above
 * the rows too; debug logs are not (--verbose uses the plain view).
 */
export function createLiveView(options: LiveViewOptions): LiveView {
  const stream = options.stream as Writable & { columns?: number; rows?: number };
  const stderr = options.stderr ?? process.stderr;
  const frameMs = options.frameMs ?? 100;
  const maxRows = options.maxRows ?? 30;

  let model: LiveModel | undefined;
  let titles: Array<{ title?: string }> = []; // listr2's Task objects: one per host, then the run row
  let hostOutcomes: Deferred[] = [];
  const runOutcome = deferred();
  let renderer: { update(): void } | undefined;
  let running: Promise<void> | undefined;
  let drawing = false;
  const above: string[] = [];
  let dropped = 0;
  let rows: RowSelection | undefined;
  let nameWidth = 0;
  let width = 0;
  let startedAt = 0;

  /** Queues a message for above the rows, without escape sequences: the frame's erase must land where it drew. */
  const say = (message: string) => {
    for (const line of message.split('\n')) {
      if (above.length < MAX_ABOVE) above.push(printable(line));
      else dropped++;
    }
    renderer?.update();
  };

  function beforeFrame(): void {
    if (!model || !rows) return;
    const m = model;
    const now = Math.max(20, (stream.columns || 80) - 3); // icon, space, and the last column left free
    if (now !== width) {
      width = now;
      m.markAllChanged();
    }
    rows.update(rowCap(), (host) => m.markChanged(host));
    for (const host of m.takeChanged()) titles[host.index]!.title = rows.has(host) ? styledRow(m, host) : '';
    titles[m.hosts.length]!.title = m.runRow(rows.hidden, width);
  }

  function styledRow(m: LiveModel, host: HostState): string {
    const row = m.hostRow(host, nameWidth, width);
    if (host.phase === 'failed') return color.red(row.text);
    return row.dim ? `${row.text}  ${color.dim(row.dim)}` : row.text;
  }

  /** Rows for hosts: the terminal's height (or maxRows) minus the run row and the cursor's line. */
  const rowCap = () => Math.max(1, Math.min(maxRows, (stream.rows || 24) - 2) - 1);

  /** A failure with no row to show it is printed above the rows, so none goes unseen. */
  function onFailed(host: HostState): void {
    if (!rows!.admitFailed(host)) say(`[${host.name}] ✖ ${host.failure ?? 'failed'}`);
    hostOutcomes[host.index]!.settle('failed');
  }

  function start(event: Extract<DeployrEvent, { type: 'run:start' }>): void {
    const m = new LiveModel(event, event.hosts.map((h) => h.name));
    model = m;
    startedAt = Date.now();
    rows = new RowSelection(m.hosts);
    rows.update(rowCap(), () => {});
    nameWidth = Math.min(24, Math.max(0, ...m.hosts.map((h) => h.name.length)));
    hostOutcomes = m.hosts.map(() => deferred());

    const processOutput = new ProcessOutput(stream as NodeJS.WriteStream, stderr as NodeJS.WriteStream);
    const Renderer = rowsRenderer({
      frameMs,
      processOutput,
      beforeFrame,
      takeAbove: () => {
        const lines = above.splice(0);
        if (dropped > 0) lines.push(`… ${dropped} more lines (see the log files)`);
        dropped = 0;
        return lines;
      },
      created: (r) => (renderer = r),
      failed: (error) => {
        renderer = undefined;
        stderr.write(`deployr: the live view failed and stopped drawing: ${String(error)}\n`);
      },
    });
    const outcomeTask = (outcome: Deferred) => ({
      title: '',
      task: async (_ctx: unknown, task: { skip(): void }) => {
        const result = await outcome.promise;
        if (result === 'failed') throw new Error('failed'); // the row shows the reason, not this
        if (result === 'interrupted') task.skip();
      },
    });
    const listr = new Listr([...hostOutcomes, runOutcome].map(outcomeTask), {
      concurrent: true,
      exitOnError: false,
      collectErrors: false,
      registerSignalListeners: false,
      renderer: Renderer,
      fallbackRendererCondition: false,
      silentRendererCondition: false,
    });
    titles = listr.tasks;
    drawing = true;
    running = listr.run().then(
      () => undefined,
      (error: unknown) => void stderr.write(`deployr: the live view failed: ${String(error)}\n`),
    );
    void running.finally(() => (drawing = false));
  }

  function finish(event: Extract<DeployrEvent, { type: 'run:end' }>): void {
    const m = model!;
    m.apply(event);
    for (const host of m.hosts) {
      if (host.phase === 'failed') {
        rows!.admitFailed(host); // the summary after the run lists every failure anyway
        hostOutcomes[host.index]!.settle('failed');
      } else hostOutcomes[host.index]!.settle(host.phase === 'interrupted' ? 'interrupted' : 'ok');
    }
    runOutcome.settle(event.ok ? 'ok' : event.interrupted ? 'interrupted' : 'failed');
    renderer?.update();
  }

  return {
    listener(event) {
      if (event.type === 'run:start') {
        if (!model) start(event);
        return;
      }
      if (!model || model.finished) return;
      if (event.type === 'run:end') return finish(event);
      const where = 'host' in event && event.host ? `[${event.host}] ` : '[deployr] ';
      if (event.type === 'warning') say(`${where}⚠ ${event.message}`);
      else if (event.type === 'error') say(`${where}✖ ${firstLine(event.error.message)}`);
      else if (event.type === 'log' && event.level === 'info') say(`${where}ℹ ${event.message}`);
      const failed = model.apply(event);
      if (failed) onFailed(failed);
      renderer?.update();
    },
    notice(text) {
      if (drawing) say(text);
      else stderr.write(text + '\n');
    },
    async done() {
      if (!model || !running) return;
      if (!model.finished) {
        const time = new Date().toISOString();
        const durationMs = Date.now() - startedAt;
        finish({ type: 'run:end', ok: false, interrupted: true, durationMs, failures: [], exitCode: 130, time, runId: '' });
      }
      await running;
    },
  };
}

function deferred(): Deferred {
  let settle!: (outcome: Outcome) => void;
  const promise = new Promise<Outcome>((resolve) => (settle = resolve));
  return { promise, settle };
}

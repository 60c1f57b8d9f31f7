import type { Writable } from 'node:stream';
import type { DeployrEvent, EventListener } from '../engine/events.js';
import { createJsonView } from './json.js';
import { createLiveView, type LiveView } from './live.js';
import { createLogFiles, type LogFiles } from './log-files.js';
import { createPlainView, type PlainView } from './plain.js';
import { formatFailureSummary } from './summary.js';

export { createJsonView, type JsonViewOptions } from './json.js';
export { createLiveView, type LiveView, type LiveViewOptions } from './live.js';
export { createLogFiles, type LogFiles, type LogFilesOptions } from './log-files.js';
export { createPlainView, type PlainView, type PlainViewOptions } from './plain.js';
export { formatFailureSummary, type SummaryOptions } from './summary.js';

/** Anything events can be subscribed to: a Deployr, an EventBus, or its `on` function. */
export type EventSource = { on(listener: EventListener): () => void } | ((listener: EventListener) => () => void);

export interface AttachViewsOptions {
  /** Whether stdout is a terminal (`process.stdout.isTTY`). */
  tty: boolean;
  /** `--json`: NDJSON events on stdout and nothing else there. */
  json?: boolean;
  /** `--verbose`: plain lines with connects, exits, timings and debug logs, even on a terminal. */
  verbose?: boolean;
  /** `--dry-run`: plain lines even on a terminal, since the printed commands are the result. */
  dryRun?: boolean;
  /** Default: process.stdout. */
  stdout?: Writable;
  /** Default: process.stderr. */
  stderr?: Writable;
  /** Write per-host log files under this directory (resolved config `logDir`); false or unset: none. */
  logDir?: string | false;
  /** Run directories kept in logDir. Default 20. */
  keepRuns?: number;
  /** Print the failure summary on stderr in close() after a failed run. Default true. */
  summary?: boolean;
}

export interface AttachedViews {
  /** Which view draws progress. */
  readonly mode: 'live' | 'plain' | 'json';
  /** Tells the user something (e.g. "stopping…"): above the live rows, else on stderr. */
  notice(text: string): void;
  /** The host's log file in the current run ('' for run.log), if log files are on. */
  logPathFor(host: string): string | undefined;
  /**
   * Unsubscribes, waits for the live view's last frame, writes the log files
   * out, then prints the failure summary (stderr) if the run failed. Call it
   * once the run is over (also when it threw). Never rejects; repeat calls
   * return the same promise.
   */
  close(): Promise<void>;
}

/**
 * Subscribes the views a CLI run shows: the live view on a terminal, plain
 * lines otherwise (CI, pipes, --verbose, --dry-run), NDJSON with --json; log
 * files whenever `logDir` is given, dry runs included (they record what
 * would have run; they count towards `keepRuns`). Each view is its own
 * listener, so one that throws is dropped by the bus without taking the
 * others along.
 */
export function attachViews(source: EventSource, options: AttachViewsOptions): AttachedViews {
  const subscribe = typeof source === 'function' ? source : (listener: EventListener) => source.on(listener);
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const mode = options.json ? 'json' : options.tty && !options.verbose && !options.dryRun ? 'live' : 'plain';
  const unsubscribe: Array<() => void> = [];
  let live: LiveView | undefined;
  let plain: PlainView | undefined;
  let logs: LogFiles | undefined;
  let end: Extract<DeployrEvent, { type: 'run:end' }> | undefined;

  const notice = (text: string): void => {
    if (live) live.notice(text);
    else stderr.write(text + '\n');
  };
  if (options.logDir) {
    logs = createLogFiles({
      logDir: options.logDir,
      ...(options.keepRuns === undefined ? {} : { keepRuns: options.keepRuns }),
      onError: (error) => notice(`deployr: could not write the log files: ${error instanceof Error ? error.message : String(error)}`),
    });
    unsubscribe.push(subscribe(logs.listener));
  }
  if (mode === 'json') unsubscribe.push(subscribe(createJsonView({ stream: stdout })));
  else if (mode === 'live') unsubscribe.push(subscribe((live = createLiveView({ stream: stdout, stderr })).listener));
  else unsubscribe.push(subscribe((plain = createPlainView({ stream: stdout, verbose: options.verbose ?? false })).listener));
  unsubscribe.push(
    subscribe((event) => {
      if (event.type === 'run:end') end = event;
    }),
  );

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    for (const off of unsubscribe) off();
    await live?.done();
    plain?.close();
    await logs?.close();
    if (options.summary !== false && end && end.failures.length > 0) {
      stderr.write('\n' + formatFailureSummary(end.failures, { logPathFor: (host) => logs?.pathFor(host) }));
    }
  }

  return {
    mode,
    notice,
    logPathFor: (host) => logs?.pathFor(host),
    close: () => (closing ??= close().catch((error: unknown) => void stderr.write(`deployr: ${String(error)}\n`))),
  };
}

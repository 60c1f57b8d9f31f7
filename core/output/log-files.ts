import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { EventListener } from '../engine/events.js';
import { BufferedAppender } from './appender.js';
import { LogLineFormatter } from './log-lines.js';
import { pruneRuns, RUN_MARKER } from './log-rotation.js';
import { FileNames, isSafeRunId } from './safe-name.js';

export interface LogFilesOptions {
  /** Holds one directory per run: `<logDir>/<runId>/<host>.log` and `run.log`. */
  logDir: string;
  /** Run directories to keep, the current one included; older ones are deleted. Default 20; Infinity keeps all. */
  keepRuns?: number;
  /**
   * Writing logs failed (or the run id was unusable). Called once, for the
   * first problem: a log that cannot be written must never fail a deploy.
   * Default: ignore.
   */
  onError?: (error: unknown) => void;
  /** Longest time a line waits in memory before it is written. Default 200 ms. */
  flushMs?: number;
}

export interface LogFiles {
  listener: EventListener;
  /**
   * The log file of `host` in the current run, `run.log` for '' (run-level
   * failures); undefined before run:start and for hosts the run never saw.
   */
  pathFor(host: string): string | undefined;
  /** The current run's directory, once run:start arrived. */
  readonly runDir: string | undefined;
  /** Writes what is buffered and waits for pruning; never rejects. */
  close(): Promise<void>;
}

interface RunLogs {
  id: string;
  dir: string;
  names: FileNames;
  /** Host → its file, computed once. */
  paths: Map<string, string>;
  formatter: LogLineFormatter;
  appender: BufferedAppender;
}

/**
 * Full per-host logs of every run, whatever the terminal showed: the place
 * to look after a failure (the failure summary prints the path). Text is
 * buffered and written in batches (see BufferedAppender), so a 150-host run
 * does not pay a write per output line. Directories are created 0700 and
 * files 0600 — they hold command output.
 */
export function createLogFiles(options: LogFilesOptions): LogFiles {
  const logDir = resolve(options.logDir);
  const keep = options.keepRuns ?? 20;
  if (!(keep >= 1)) throw new RangeError(`keepRuns must be at least 1 (got ${keep})`);
  let reported = false;
  const report = (error: unknown) => {
    if (reported) return;
    reported = true;
    options.onError?.(error);
  };
  const finished: Array<Promise<unknown>> = [];
  let run: RunLogs | undefined;

  function startRun(id: string): RunLogs | undefined {
    if (!isSafeRunId(id)) {
      report(new Error(`run id ${JSON.stringify(id)} is not a safe directory name; not writing log files`));
      return undefined;
    }
    const dir = join(logDir, id);
    const ready = mkdir(dir, { recursive: true, mode: 0o700 }).then(() =>
      writeFile(join(dir, RUN_MARKER), `${id}\n`, { mode: 0o600 }),
    );
    // Prune only once this run's directory exists, so it counts among those kept.
    finished.push(ready.then(() => pruneRuns(logDir, keep, id)).catch(report));
    const appender = new BufferedAppender({ ready, onError: report, ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }) });
    return { id, dir, names: new FileNames(['run']), paths: new Map(), formatter: new LogLineFormatter(), appender };
  }

  function fileOf(logs: RunLogs, host: string): string {
    let path = logs.paths.get(host);
    if (path === undefined) {
      path = join(logs.dir, host === '' ? 'run.log' : `${logs.names.get(host)}.log`);
      logs.paths.set(host, path);
    }
    return path;
  }

  return {
    listener(event) {
      if (event.type === 'run:start') {
        if (run) finished.push(run.appender.flush());
        run = startRun(event.runId);
        if (run) for (const host of event.hosts) run.names.get(host.name); // names in host-list order: stable per config
      }
      if (!run || event.runId !== run.id) return;
      for (const entry of run.formatter.format(event)) run.appender.append(fileOf(run, entry.host), entry.text);
      if (event.type === 'run:end') finished.push(run.appender.flush());
    },
    pathFor(host) {
      if (!run || (host !== '' && !run.names.has(host))) return undefined;
      return fileOf(run, host);
    },
    get runDir() {
      return run?.dir;
    },
    async close() {
      if (run) finished.push(run.appender.flush());
      await Promise.all(finished);
    },
  };
}

/**
 * The one stream of typed events a run produces. Every view — the live
 * terminal view, plain CI lines, --json, the per-host log files, the failure
 * summary — subscribes to this stream; nothing else prints progress.
 * Command text and output in events are already masked.
 */

/** An error as views and --json see it: plain data, secrets already masked. */
export interface ErrorInfo {
  /** Class name, e.g. 'CommandError', 'PluginError', 'ConnectionError'. */
  name: string;
  /** Stable code, e.g. 'COMMAND_FAILED', 'PLUGIN_ERROR'; 'ERROR' for errors deployr did not raise. */
  code: string;
  message: string;
  hint?: string;
  /** Set when a plugin's tap or task failed. */
  plugin?: string;
  /** The hook (or 'task "name"') the plugin failed in. */
  hook?: string;
  /** The failed command (masked), when the failure was a command's. */
  command?: string;
  exitCode?: number | null;
  signal?: string | null;
  /** The last lines the failed command wrote to stderr. */
  stderrTail?: string;
}

/** One host's failure, as the run result and the failure summary report it. */
export interface HostFailure {
  host: string;
  /** The task that failed on this host ('' when it failed before any task, e.g. while connecting). */
  task: string;
  error: ErrorInfo;
}

export interface HostSummary {
  name: string;
  /** address / user@address:port as configured; 'local' for the local transport. */
  address: string;
  roles: readonly string[];
}

export type LogLevel = 'info' | 'debug';

interface Stamped {
  /** ISO 8601 time the event was emitted. */
  time: string;
  runId: string;
}

export type DeployrEventBody =
  | {
      type: 'run:start';
      task: string;
      environment: string;
      hosts: HostSummary[];
      dryRun: boolean;
      concurrency: number;
    }
  | {
      type: 'run:end';
      ok: boolean;
      interrupted: boolean;
      durationMs: number;
      failures: HostFailure[];
      exitCode: number;
    }
  | { type: 'host:connect:start'; host: string }
  | { type: 'host:connect:end'; host: string; durationMs: number; error?: ErrorInfo }
  | { type: 'task:start'; host: string; task: string }
  | {
      type: 'task:end';
      host: string;
      task: string;
      /** 'skipped': not run because an earlier step failed or the run was interrupted. */
      status: 'ok' | 'failed' | 'skipped';
      durationMs: number;
      error?: ErrorInfo;
    }
  | { type: 'command:start'; host: string; task?: string; id: string; command: string }
  | { type: 'command:output'; host: string; task?: string; id: string; stream: 'stdout' | 'stderr'; text: string }
  | {
      type: 'command:end';
      host: string;
      task?: string;
      id: string;
      code: number | null;
      signal: string | null;
      durationMs: number;
    }
  | {
      type: 'log';
      host?: string;
      task?: string;
      level: LogLevel;
      message: string;
      /** Structured details for --json readers, e.g. a release upload's counts; views print only the message. */
      data?: Record<string, unknown>;
    }
  | { type: 'warning'; host?: string; task?: string; message: string }
  | { type: 'error'; host?: string; task?: string; error: ErrorInfo };

/** An event with its time and run id. Discriminate on `type`. */
export type DeployrEvent = DeployrEventBody & Stamped;

export type DeployrEventType = DeployrEvent['type'];

export type EventListener = (event: DeployrEvent) => void;

/**
 * A synchronous fan-out of events to listeners. A listener that throws is
 * removed and reported on stderr rather than breaking the run: a broken view
 * must not fail a deploy.
 */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(runId: string, body: DeployrEventBody): void {
    if (this.listeners.size === 0) return;
    const event = { ...body, time: new Date().toISOString(), runId } as DeployrEvent;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.listeners.delete(listener);
        process.stderr.write(`deployr: an event listener failed and was removed: ${String(error)}\n`);
      }
    }
  }
}

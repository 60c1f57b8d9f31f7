import type { ResolvedEnvironment, ResolvedHost } from '../config/resolved.js';
import type { Vars } from '../config/types.js';
import type { Host } from '../connection/host.js';
import type { HostFailure } from './events.js';
import type { TaskRef } from './task.js';

/**
 * Run-wide state every task and hook on every host shares, e.g. a build
 * artifact's path computed once and read by each host. Augment it to type
 * your own keys: `declare module 'deployr' { interface SharedState { artifact?: string } }`.
 */
export interface SharedState {
  [key: string]: unknown;
}

/** Messages for output and logs, attributed to the current host and task. */
export interface Logger {
  /** `data` travels with the event for --json readers; views print the message. */
  info(message: string, data?: Record<string, unknown>): void;
  /** Shown with --verbose, always written to the host's log file. */
  debug(message: string): void;
  /** Shown always; collected in --json as a 'warning' event. */
  warn(message: string): void;
}

/** What every context of a run has, per host or once. */
export interface RunScopeContext {
  readonly environment: ResolvedEnvironment;
  /** Every host selected for this run, in order. */
  readonly hosts: readonly ResolvedHost[];
  /** Shared by every task and hook of this run, on every host. */
  readonly shared: SharedState;
  readonly log: Logger;
  /** Aborted on Ctrl-C/SIGTERM (per host: also the task's timeout). Host commands already stop with it; pass it to your own waits. */
  readonly signal: AbortSignal;
  /** --dry-run: hosts are connected, but only commands marked `readOnly` run; the rest are recorded and printed. Skip side effects on this machine too. */
  readonly dryRun: boolean;
  /** Arguments after the environment on the command line: `deployr db:seed prod users` → ['users']. */
  readonly args: readonly string[];
  /** This run's id, time-sortable (`20261121T114323123Z-9f3a`): its log directory, its lock. A deploy's release id is `releaseOf(ctx).id`. */
  readonly runId: string;
  /** Named options for this run: command-line options such as `--lock-wait`, or `run(task, { params })`. */
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * The TaskContext of one selected host (connecting to it if needed), e.g.
   * for a `once` task that works across the fleet, or to run a migration on
   * the first 'db' host from a once-per-run hook.
   */
  contextFor(host: string | ResolvedHost, task?: string): Promise<TaskContext>;
}

/** What every task function and per-host hook receives. */
export interface TaskContext extends RunScopeContext {
  /** This host's API: exec, sudo, as, cd, env, prefix, files. A local Host for `local` tasks. */
  readonly host: Host;
  /** This host as configured (name, address, roles, vars); for `local` tasks, a host named 'local'. */
  readonly target: ResolvedHost;
  /** Config vars < environment vars < host vars. */
  readonly vars: Vars;
  readonly roles: readonly string[];
  /** Name of the task running now. */
  readonly task: string;
  /** Runs another task (name, function or composition) on this host only. */
  runTask(task: TaskRef): Promise<void>;
  /** Runs the definition this task overrides, on this host. Throws if it overrides nothing. */
  original(): Promise<void>;
}

/** What once-per-run hooks receive. */
export interface RunContext extends RunScopeContext {
  /** The task the run was started for, e.g. 'deploy'. */
  readonly task: string;
}

/** What the failure hook receives. */
export interface FailureContext extends RunContext {
  readonly failures: readonly HostFailure[];
  /** The errors themselves, by host name ('' for a failure that belongs to no host). */
  readonly errors: ReadonlyMap<string, unknown>;
  /** True when the run was stopped by Ctrl-C/SIGTERM. */
  readonly interrupted: boolean;
}

/** What the done hook receives. */
export interface DoneContext extends RunContext {
  readonly ok: boolean;
  readonly failures: readonly HostFailure[];
  readonly interrupted: boolean;
  readonly durationMs: number;
}

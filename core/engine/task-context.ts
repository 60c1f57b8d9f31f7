import type { ResolvedEnvironment, ResolvedHost } from '../config/resolved.js';
import { Host, type HostEvent } from '../connection/host.js';
import type { Connection } from '../connection/types.js';
import type { Logger, SharedState, TaskContext } from './context.js';
import type { DeployrEventBody } from './events.js';
import type { TaskRef } from './task.js';

/** What every TaskContext of one run shares. */
export interface RunScope {
  readonly environment: ResolvedEnvironment;
  readonly hosts: readonly ResolvedHost[];
  readonly shared: SharedState;
  readonly dryRun: boolean;
  readonly args: readonly string[];
  readonly runId: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly emit: (body: DeployrEventBody) => void;
  /** Another host's context; its commands stop with `signal`. */
  readonly contextFor: (host: string | ResolvedHost, task: string, signal: AbortSignal) => Promise<TaskContext>;
}

export interface ContextParts {
  readonly task: string;
  readonly target: ResolvedHost;
  readonly connection: Connection;
  readonly signal: AbortSignal;
  readonly runTask: (ref: TaskRef) => Promise<void>;
  readonly original: () => Promise<void>;
}

export function createLogger(emit: RunScope['emit'], host: string | undefined, task: string | undefined): Logger {
  const where = { ...(host === undefined ? {} : { host }), ...(task === undefined ? {} : { task }) };
  return {
    info: (message, data) => emit({ type: 'log', level: 'info', message: String(message), ...where, ...(data === undefined ? {} : { data }) }),
    debug: (message) => emit({ type: 'log', level: 'debug', message: String(message), ...where }),
    warn: (message) => emit({ type: 'warning', message: String(message), ...where }),
  };
}

/**
 * The context a task function or per-host hook gets. Its Host is new for
 * each task, so the commands it runs are attributed to that task in events
 * and stop with that task's signal; the connection underneath is the host's
 * one connection.
 */
export function createTaskContext(scope: RunScope, parts: ContextParts): TaskContext {
  const { environment } = scope;
  const { task, target } = parts;
  const onEvent = (event: HostEvent): void => scope.emit({ ...event, task });
  const host = new Host(parts.connection, {
    onEvent,
    signal: parts.signal,
    ...(environment.sudoPassword === undefined ? {} : { sudoPassword: environment.sudoPassword }),
    ...(environment.commandTimeout === undefined ? {} : { defaultTimeout: environment.commandTimeout * 1000 }),
  });
  return Object.freeze({
    host,
    target,
    vars: target.vars,
    roles: target.roles,
    environment,
    hosts: scope.hosts,
    shared: scope.shared,
    log: createLogger(scope.emit, target.name, task),
    signal: parts.signal,
    dryRun: scope.dryRun,
    task,
    args: scope.args,
    runId: scope.runId,
    params: scope.params,
    contextFor: (other: string | ResolvedHost, otherTask?: string) => scope.contextFor(other, otherTask ?? task, parts.signal),
    runTask: parts.runTask,
    original: parts.original,
  });
}

import { setMaxListeners } from 'node:events';
import { describeAddress, type ResolvedEnvironment, type ResolvedHost } from '../config/resolved.js';
import type { SshConnector } from '../connection/ssh/connector.js';
import { ConfigError, InterruptedError, LockError } from '../errors.js';
import type { DoneContext, FailureContext, RunContext, SharedState, TaskContext } from './context.js';
import type { RunResult } from './deployr.js';
import { findCause, isConnectionFailure, toErrorInfo } from './error-info.js';
import { ExitCode } from './exit-codes.js';
import type { DeployrEventBody, HostFailure } from './events.js';
import { Executor } from './executor.js';
import type { DeployrHooks } from './hooks.js';
import { HostPool, LOCAL_HOST_NAME } from './host-pool.js';
import type { TaskRegistry } from './registry.js';
import type { TaskRef } from './task.js';
import { createLogger, createTaskContext, type RunScope } from './task-context.js';

export interface RunSetup {
  readonly runId: string;
  /** The task as the user named it, for events and hooks. */
  readonly taskName: string;
  readonly task: TaskRef;
  readonly hooks: DeployrHooks;
  readonly registry: TaskRegistry;
  readonly environment: ResolvedEnvironment;
  readonly hosts: readonly ResolvedHost[];
  readonly concurrency: number;
  readonly dryRun: boolean;
  readonly args: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly root: string;
  readonly connector: SshConnector;
  readonly signal: AbortSignal;
  /** Stops the failure and done hooks (a second Ctrl-C). */
  readonly cleanupSignal: AbortSignal;
  readonly emit: (body: DeployrEventBody) => void;
}

/**
 * One run of a task: start hook → the task over the fleet → on failure the
 * failure hook → done hook → connections closed → result. Failures are
 * collected per host, never thrown: the caller reads the result.
 */
export async function executeRun(setup: RunSetup): Promise<RunResult> {
  const started = performance.now();
  const { emit, environment, hooks } = setup;
  // Every running step listens to the run's signals: hundreds of hosts are expected, not a leak.
  setMaxListeners(0, setup.signal, setup.cleanupSignal);
  const shared: SharedState = {};
  // contextFor needs the executor, which needs the scope: bound once both exist.
  let contextFor: RunScope['contextFor'] = () => Promise.reject(new Error('contextFor() called before the run started'));
  const scope: RunScope = {
    environment,
    hosts: setup.hosts,
    shared,
    dryRun: setup.dryRun,
    args: setup.args,
    runId: setup.runId,
    params: setup.params,
    emit,
    contextFor: (host, task, signal) => contextFor(host, task, signal),
  };
  const localTarget: ResolvedHost = Object.freeze({
    name: LOCAL_HOST_NAME,
    address: 'localhost',
    roles: [],
    vars: environment.vars,
    ssh: {},
    disabled: false,
  });
  const pool = new HostPool({
    environment,
    connector: setup.connector,
    dryRun: setup.dryRun,
    root: setup.root,
    emit,
    afterConnect: async (target, connection) => {
      if (!hooks.connect.isUsed()) return;
      const noop = async (): Promise<void> => undefined;
      await hooks.connect.promise(
        createTaskContext(scope, { task: 'connect', target, connection, signal: setup.signal, runTask: noop, original: noop }),
      );
    },
  });
  const executor = new Executor({ scope, registry: setup.registry, pool, concurrency: setup.concurrency, signal: setup.signal, localTarget });

  const runContext = (signal: AbortSignal): RunContext => ({
    runId: setup.runId,
    params: setup.params,
    task: setup.taskName,
    environment,
    hosts: setup.hosts,
    shared,
    log: createLogger(emit, undefined, undefined),
    signal,
    dryRun: setup.dryRun,
    args: setup.args,
    contextFor: async (host, task) => contextFor(host, task ?? setup.taskName, signal),
  });
  contextFor = async (host: string | ResolvedHost, task: string, signal: AbortSignal): Promise<TaskContext> => {
    const name = typeof host === 'string' ? host : host.name;
    const target = name === LOCAL_HOST_NAME ? localTarget : setup.hosts.find((candidate) => candidate.name === name);
    if (!target) {
      throw new ConfigError(`contextFor(): "${name}" is not a host of this run`, { hint: `its hosts are: ${setup.hosts.map((h) => h.name).join(', ')}` });
    }
    const connection = await executor.connectionFor(target);
    const runTask = (ref: TaskRef): Promise<void> => executor.runOnHost(ref, target, connection, signal, task);
    return createTaskContext(scope, { task, target, connection, signal, runTask, original: async () => undefined });
  };

  emit({
    type: 'run:start',
    task: setup.taskName,
    environment: environment.name,
    hosts: setup.hosts.map((host) => ({ name: host.name, address: describeAddress(host, environment.connect), roles: host.roles })),
    dryRun: setup.dryRun,
    concurrency: setup.concurrency,
  });

  try {
    await hooks.start.promise(runContext(setup.signal));
  } catch (error) {
    executor.record('', 'start', error);
  }
  if (executor.failures.size === 0 && !setup.signal.aborted) {
    await executor.runOnFleet(setup.task, setup.hosts, setup.taskName);
  }

  const interrupted = setup.signal.aborted;
  if (interrupted && executor.failures.size === 0) {
    executor.record('', setup.taskName, new InterruptedError('Interrupted before the run finished'));
  }
  const failures: HostFailure[] = [...executor.failures].map(([host, { task, error }]) => ({ host, task, error: toErrorInfo(error) }));
  const errors = new Map([...executor.failures].map(([host, { error }]) => [host, error] as const));
  const warn = (hook: string, error: unknown): void =>
    emit({ type: 'warning', message: `the ${hook} hook failed: ${error instanceof Error ? error.message : String(error)}` });

  if (failures.length > 0) {
    const failureContext: FailureContext = { ...runContext(setup.cleanupSignal), failures, errors, interrupted };
    await hooks.failure.promise(failureContext).catch((error: unknown) => warn('failure', error));
  }
  const ok = failures.length === 0;
  const doneContext: DoneContext = { ...runContext(setup.cleanupSignal), ok, failures, interrupted, durationMs: Math.round(performance.now() - started) };
  await hooks.done.promise(doneContext).catch((error: unknown) => warn('done', error));
  await pool.closeAll();

  const exitCode = interrupted
    ? ExitCode.interrupted
    : ok
      ? ExitCode.ok
      : [...errors.values()].some((error) => findCause(error, LockError))
        ? ExitCode.locked
        : [...errors.values()].some(isConnectionFailure)
          ? ExitCode.connection
          : ExitCode.taskFailed;
  const durationMs = Math.round(performance.now() - started);
  emit({ type: 'run:end', ok, interrupted, durationMs, failures, exitCode });
  return { runId: setup.runId, ok, interrupted, exitCode, failures, errors, durationMs };
}

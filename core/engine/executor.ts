import type { ResolvedHost } from '../config/resolved.js';
import type { Connection } from '../connection/types.js';
import { ConfigError, PluginError, TaskTimeoutError } from '../errors.js';
import { Semaphore } from '../util/semaphore.js';
import { toErrorInfo } from './error-info.js';
import type { HostPool } from './host-pool.js';
import type { TaskRegistry } from './registry.js';
import { inlineName, lookupTask, type Step } from './steps.js';
import { isComposition, type TaskDefinition, type TaskRef } from './task.js';
import { createTaskContext, type RunScope } from './task-context.js';

export interface ExecutorOptions {
  readonly scope: RunScope;
  readonly registry: TaskRegistry;
  readonly pool: HostPool;
  readonly concurrency: number;
  /** The run's signal: Ctrl-C. */
  readonly signal: AbortSignal;
  /** The host `local` tasks run on. */
  readonly localTarget: ResolvedHost;
}

export interface RecordedFailure {
  readonly task: string;
  readonly error: unknown;
}

/**
 * How long a stopped task may take to wind down — its commands' kill sweeps
 * need up to 5 s — before the run stops waiting for it. Waiting matters: if
 * the run closed connections first, the sweeps could not reach the hosts.
 */
const STOP_GRACE_MS = 10_000;

/**
 * Runs task trees over hosts. Across the fleet (`runOnFleet`) each step of a
 * series runs on all its hosts before the next step starts, and a failure
 * anywhere stops the series everywhere. Inside a task (`runOnHost`, for
 * ctx.runTask and ctx.original) everything happens on that one host and
 * errors propagate to the calling task. At most `concurrency` hosts run a
 * step at once.
 */
export class Executor {
  /** The first failure of each host ('' for failures that belong to no host). */
  readonly failures = new Map<string, RecordedFailure>();
  private readonly slots: Semaphore;
  private localConnection: Connection | undefined;

  constructor(private readonly options: ExecutorOptions) {
    this.slots = new Semaphore(options.concurrency);
  }

  record(host: string, task: string, error: unknown): void {
    if (!this.failures.has(host)) this.failures.set(host, { task, error });
  }

  async runOnFleet(ref: TaskRef, hosts: readonly ResolvedHost[], name: string): Promise<void> {
    if (typeof ref === 'function') return this.stepOnFleet({ name, fn: ref, options: {} }, hosts);
    if (isComposition(ref)) {
      if (ref.kind === 'parallel') {
        await Promise.all(ref.items.map((item, index) => this.runOnFleet(item, hosts, itemName(item, name, index))));
        return;
      }
      for (const [index, item] of ref.items.entries()) {
        if (this.halted()) {
          this.skip(ref.items.slice(index), hosts, name, index);
          return;
        }
        await this.runOnFleet(item, hosts, itemName(item, name, index));
      }
      return;
    }
    const definition = lookupTask(this.options.registry, ref);
    const around = this.options.registry.aroundOf(definition.name);
    if (!around) return this.definitionOnFleet(definition, hosts);
    // before… → the task → after…, as one series: a failure in any of them stops the rest.
    const parts: TaskRef[] = [...around.before, definition.name, ...around.after];
    for (const [index, item] of parts.entries()) {
      if (this.halted()) {
        this.skip(parts.slice(index), hosts, definition.name, index);
        return;
      }
      if (item === definition.name) await this.definitionOnFleet(definition, hosts);
      else await this.runOnFleet(item, hosts, itemName(item, definition.name, index));
    }
  }

  private async definitionOnFleet(definition: TaskDefinition, hosts: readonly ResolvedHost[]): Promise<void> {
    const selected = this.hostsFor(definition, hosts);
    if (selected.length === 0 && definition.roles?.length) {
      const roles = definition.roles.map((role) => `'${role}'`).join(' or ');
      this.options.scope.emit({ type: 'warning', message: `task "${definition.name}" runs nowhere: no selected host has role ${roles}` });
    }
    if (typeof definition.run === 'function') return this.stepOnFleet(stepOf(definition), selected);
    return this.runOnFleet(definition.run, selected, definition.name);
  }

  /** Runs a task on one host, inside another task: errors go to the caller. */
  async runOnHost(ref: TaskRef, target: ResolvedHost, connection: Connection, signal: AbortSignal, parent: string): Promise<void> {
    if (typeof ref === 'function') {
      return this.runStep({ name: inlineName(ref, parent, 0), fn: ref, options: {} }, target, async () => connection, signal);
    }
    if (isComposition(ref)) {
      if (ref.kind === 'parallel') {
        await Promise.all(ref.items.map((item, index) => this.runOnHost(item, target, connection, signal, itemName(item, parent, index))));
      } else {
        for (const [index, item] of ref.items.entries()) await this.runOnHost(item, target, connection, signal, itemName(item, parent, index));
      }
      return;
    }
    return this.runDefinitionOnHost(lookupTask(this.options.registry, ref, parent), target, connection, signal);
  }

  /** The connection of a host, connecting it the first time; this machine's for the local target. */
  connectionFor(target: ResolvedHost): Promise<Connection> {
    if (target === this.options.localTarget) {
      this.localConnection ??= this.options.pool.local();
      return Promise.resolve(this.localConnection);
    }
    return this.options.pool.get(target, this.options.signal);
  }

  private halted(): boolean {
    return this.failures.size > 0 || this.options.signal.aborted;
  }

  private async runDefinitionOnHost(definition: TaskDefinition, target: ResolvedHost, connection: Connection, signal: AbortSignal): Promise<void> {
    const around = this.options.registry.aroundOf(definition.name);
    if (!around) return this.bodyOnHost(definition, target, connection, signal);
    for (const [index, item] of around.before.entries()) await this.runOnHost(item, target, connection, signal, itemName(item, definition.name, index));
    await this.bodyOnHost(definition, target, connection, signal);
    for (const [index, item] of around.after.entries()) await this.runOnHost(item, target, connection, signal, itemName(item, definition.name, index));
  }

  private async bodyOnHost(definition: TaskDefinition, target: ResolvedHost, connection: Connection, signal: AbortSignal): Promise<void> {
    if (definition.roles?.length && !definition.local && !target.roles.some((role) => definition.roles?.includes(role))) {
      this.options.scope.emit({ type: 'log', level: 'debug', host: target.name, message: `${definition.name}: skipped, ${target.name} has none of its roles (${definition.roles.join(', ')})` });
      return;
    }
    if (definition.local && target !== this.options.localTarget) {
      const local = this.options.localTarget;
      const here = await this.connectionFor(local);
      return typeof definition.run === 'function'
        ? this.runStep(stepOf(definition), local, async () => here, signal)
        : this.runOnHost(definition.run, local, here, signal, definition.name);
    }
    if (typeof definition.run === 'function') return this.runStep(stepOf(definition), target, async () => connection, signal);
    return this.runOnHost(definition.run, target, connection, signal, definition.name);
  }

  /** Which of `hosts` a task runs on: its roles, once (the first healthy one), local (this machine). */
  private hostsFor(definition: TaskDefinition, hosts: readonly ResolvedHost[]): readonly ResolvedHost[] {
    if (definition.local) return [this.options.localTarget];
    const roles = definition.roles;
    const eligible = roles?.length ? hosts.filter((host) => host.roles.some((role) => roles.includes(role))) : hosts;
    if (!definition.once) return eligible;
    const first = eligible.find((host) => !this.failures.has(host.name));
    return first ? [first] : [];
  }

  private async stepOnFleet(step: Step, hosts: readonly ResolvedHost[]): Promise<void> {
    await Promise.all(hosts.filter((host) => !this.failures.has(host.name)).map((target) => this.stepInSlot(step, target)));
  }

  private async stepInSlot(step: Step, target: ResolvedHost): Promise<void> {
    const { signal } = this.options;
    let release: (() => void) | undefined;
    try {
      release = await this.slots.acquire(signal);
    } catch {
      this.emitSkipped(step.name, target.name);
      return;
    }
    try {
      if (signal.aborted) {
        this.emitSkipped(step.name, target.name);
        return;
      }
      await this.runStep(step, target, () => this.connectionFor(target), signal);
    } catch (error) {
      this.record(target.name, step.name, error);
    } finally {
      release();
    }
  }

  /** Runs one task body on one host, with task events, its own signal and timeout, and plugin stamping. */
  private async runStep(step: Step, target: ResolvedHost, connect: () => Promise<Connection>, parentSignal: AbortSignal): Promise<void> {
    const { emit } = this.options.scope;
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    emit({ type: 'task:start', host: target.name, task: step.name });
    const stop = new AbortController();
    const onParentAbort = (): void => stop.abort(parentSignal.reason);
    if (parentSignal.aborted) stop.abort(parentSignal.reason);
    else parentSignal.addEventListener('abort', onParentAbort, { once: true });
    const timeout = step.options.timeout;
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(
            () =>
              stop.abort(
                new TaskTimeoutError(`Task "${step.name}" timed out after ${timeout}s on ${target.name}`, {
                  host: target.name,
                  hint: `raise the task's timeout, or find what hangs in ${target.name}'s log`,
                }),
              ),
            timeout * 1000,
          );
    try {
      const connection = await connect();
      const ctx = createTaskContext(this.options.scope, {
        task: step.name,
        target,
        connection,
        signal: stop.signal,
        runTask: (ref) => this.runOnHost(ref, target, connection, stop.signal, step.name),
        original: () => {
          if (!step.previous) {
            return Promise.reject(new ConfigError(`Task "${step.name}" overrides nothing, so ctx.original() has nothing to run`, { hint: 'remove the ctx.original() call' }));
          }
          return this.bodyOnHost(step.previous, target, connection, stop.signal);
        },
      });
      await settleWithin(Promise.resolve().then(async () => void (await step.fn(ctx))), stop.signal);
      emit({ type: 'task:end', host: target.name, task: step.name, status: 'ok', durationMs: elapsed() });
    } catch (error) {
      const explained = explain(error, step, target.name, stop.signal);
      emit({ type: 'task:end', host: target.name, task: step.name, status: 'failed', durationMs: elapsed(), error: toErrorInfo(explained) });
      throw explained;
    } finally {
      if (timer) clearTimeout(timer);
      parentSignal.removeEventListener('abort', onParentAbort);
    }
  }

  private emitSkipped(task: string, host: string): void {
    this.options.scope.emit({ type: 'task:end', host, task, status: 'skipped', durationMs: 0 });
  }

  /** Reports the steps a halted series will not run, so every view can show them as skipped; `offset` is the first one's place in the series, which names an inline function. */
  private skip(items: readonly TaskRef[], hosts: readonly ResolvedHost[], parent: string, offset = 0): void {
    for (const [at, item] of items.entries()) {
      const index = offset + at;
      if (isComposition(item)) {
        this.skip(item.items, hosts, parent);
        continue;
      }
      const definition = typeof item === 'string' ? this.options.registry.get(item) : undefined;
      const name = typeof item === 'string' ? item : inlineName(item, parent, index);
      const targets = definition ? this.hostsFor(definition, hosts) : hosts;
      for (const target of targets) this.emitSkipped(name, target.name);
    }
  }
}

function stepOf(definition: TaskDefinition): Step {
  const { name, run, plugin, previous, ...options } = definition;
  return {
    name,
    fn: run as Step['fn'],
    options,
    ...(plugin === undefined ? {} : { plugin }),
    ...(previous === undefined ? {} : { previous }),
  };
}

function itemName(item: TaskRef, parent: string, index: number): string {
  if (typeof item === 'string') return item;
  if (typeof item === 'function') return inlineName(item, parent, index);
  return parent;
}

/** The error a failed step reports: a timeout says so; a plugin's task is stamped with the plugin. */
function explain(error: unknown, step: Step, host: string, signal: AbortSignal): unknown {
  if (signal.aborted && signal.reason instanceof TaskTimeoutError) {
    const timeout = signal.reason;
    return new TaskTimeoutError(timeout.message, { host, cause: error, ...(timeout.hint === undefined ? {} : { hint: timeout.hint }) });
  }
  if (step.plugin && !(error instanceof PluginError)) return new PluginError(step.plugin, `task "${step.name}"`, host, error);
  return error;
}

/**
 * Settles with `work`; once `signal` aborts, waits at most STOP_GRACE_MS
 * more (for the stopped commands' kill sweeps) before giving up on a task
 * that ignores its signal.
 */
function settleWithin(work: Promise<void>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      timer = setTimeout(() => reject(signal.reason), STOP_GRACE_MS);
      timer.unref();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        // Work that finished despite an abort did finish; but a timed-out task failed even if it then returned.
        if (signal.aborted && signal.reason instanceof TaskTimeoutError) reject(signal.reason);
        else resolve();
      },
      (error: unknown) => {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

import { AsyncSeriesHook } from 'tapable';
import { PluginError } from '../errors.js';
import type { DoneContext, FailureContext, RunContext, TaskContext } from './context.js';

/**
 * Every lifecycle hook, in one table. Tap with your plugin's name and, to
 * order taps, a numeric `stage` (lower runs first, default 0; tapable's
 * `before` option is unreliable):
 *
 * ```ts
 * deployr.hooks.predeploy.tapPromise({ name: 'deployr:git', stage: -10 }, async (ctx) => { … });
 * ```
 * Use `tap` or `tapPromise`; a `tapAsync` callback called twice would run
 * later taps twice. Taps of one hook always run one after another; per-host
 * hooks run on the hosts at the same time (up to the run's concurrency).
 * A throw from a tap is stamped `[plugin] failed in "hook" on host: …`.
 */
export interface DeployrHooks {
  /** Once per run, before any host connects. A throw stops the run before anything is touched. */
  readonly start: AsyncSeriesHook<[RunContext]>;
  /** Per host, when its connection is open and before its first task (also under --dry-run, on a recording). A throw fails that host. */
  readonly connect: AsyncSeriesHook<[TaskContext]>;
  /** Per host, first step of `deploy`: checks and preparations before anything changes. A throw fails that host and stops the deploy everywhere. */
  readonly predeploy: AsyncSeriesHook<[TaskContext]>;
  /** Per host, in `deploy:update`: the new release's files are uploaded, shared links and build come next. A throw fails that host; no host goes on to switch. */
  readonly deploy: AsyncSeriesHook<[TaskContext]>;
  /** Per host, after the new release is built and before any host switches. A throw fails the host; no host switches. */
  readonly prepare: AsyncSeriesHook<[TaskContext]>;
  /** Per host, right after `current` points at the new release; runs only once every host has prepared. A throw fails the host, and every switched host is switched back. */
  readonly switch: AsyncSeriesHook<[TaskContext]>;
  /** Per host, after every host has switched: restarts, notifications. A throw fails the run, but nothing is switched back. */
  readonly postdeploy: AsyncSeriesHook<[TaskContext]>;
  /** Per host, after old releases were pruned: temporary files, caches. A throw fails the run; releases stay as they are. */
  readonly cleanup: AsyncSeriesHook<[TaskContext]>;
  /** Per host, after `deployr rollback` switched it, or after a failed deploy switched it back. A throw fails that host (only a warning when switching back). */
  readonly rollback: AsyncSeriesHook<[TaskContext]>;
  /** Once, after a run failed or was interrupted, before connections close; its signal is not the run's aborted one. A throw is reported as a warning and never hides the failure. */
  readonly failure: AsyncSeriesHook<[FailureContext]>;
  /** Once, at the very end of every run, failed or not. A throw is reported as a warning. */
  readonly done: AsyncSeriesHook<[DoneContext]>;
}

export type HookName = keyof DeployrHooks;

/** Every hook's name; `satisfies` fails the build when this and the table above drift apart. */
const HOOK_KEYS = {
  start: true,
  connect: true,
  predeploy: true,
  deploy: true,
  prepare: true,
  switch: true,
  postdeploy: true,
  cleanup: true,
  rollback: true,
  failure: true,
  done: true,
} as const satisfies Record<HookName, true>;
export const HOOK_NAMES = Object.keys(HOOK_KEYS) as HookName[];

/** Hooks that fire once per host (their taps get a TaskContext). */
export const PER_HOST_HOOKS = ['connect', 'predeploy', 'deploy', 'prepare', 'switch', 'postdeploy', 'cleanup', 'rollback'] as const;
export type PerHostHookName = (typeof PER_HOST_HOOKS)[number];

export function createHooks(): DeployrHooks {
  const hooks = {
    start: new AsyncSeriesHook<[RunContext]>(['run'], 'start'),
    connect: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'connect'),
    predeploy: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'predeploy'),
    deploy: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'deploy'),
    prepare: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'prepare'),
    switch: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'switch'),
    postdeploy: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'postdeploy'),
    cleanup: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'cleanup'),
    rollback: new AsyncSeriesHook<[TaskContext]>(['ctx'], 'rollback'),
    failure: new AsyncSeriesHook<[FailureContext]>(['failure'], 'failure'),
    done: new AsyncSeriesHook<[DoneContext]>(['done'], 'done'),
  };
  for (const [name, hook] of Object.entries(hooks)) stampTapErrors(name, hook as AsyncSeriesHook<[unknown]>);
  return Object.freeze(hooks);
}

/** The host a hook argument belongs to, if any: a TaskContext names its target. */
function hostOf(arg: unknown): string | undefined {
  const target = (arg as { target?: { name?: unknown } } | undefined)?.target;
  return typeof target?.name === 'string' ? target.name : undefined;
}

function stamp(plugin: string, hook: string, arg: unknown, error: unknown): unknown {
  // Already stamped by an inner hook or task: keep the innermost, most precise place.
  return error instanceof PluginError ? error : new PluginError(plugin, hook, hostOf(arg), error);
}

/**
 * Wraps every tap as it is registered so its errors carry the tap's name,
 * the hook and the host. The wrapper keeps the tap's kind, so tapable's
 * compiled call code treats it exactly as before.
 */
function stampTapErrors(hookName: string, hook: AsyncSeriesHook<[unknown]>): void {
  hook.intercept({
    register(tap) {
      const fn = tap.fn as (...args: unknown[]) => unknown;
      const plugin = tap.name;
      if (tap.type === 'promise') {
        tap.fn = async (arg: unknown) => {
          try {
            return await fn(arg);
          } catch (error) {
            throw stamp(plugin, hookName, arg, error);
          }
        };
      } else if (tap.type === 'async') {
        tap.fn = (arg: unknown, callback: (error?: unknown, result?: unknown) => void) => {
          try {
            fn(arg, (error?: unknown, result?: unknown) =>
              error ? callback(stamp(plugin, hookName, arg, error)) : callback(null, result),
            );
          } catch (error) {
            callback(stamp(plugin, hookName, arg, error));
          }
        };
      } else {
        tap.fn = (arg: unknown) => {
          try {
            return fn(arg);
          } catch (error) {
            throw stamp(plugin, hookName, arg, error);
          }
        };
      }
      return tap;
    },
  });
}

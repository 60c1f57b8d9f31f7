import type { TaskContext } from './context.js';

/**
 * A task's body: runs on one host (or once), gets everything through its
 * context. What it returns is ignored (so `async (ctx) => ctx.host.exec('…')`
 * is fine); a throw or rejection fails the task on that host.
 */
export type TaskFn = (ctx: TaskContext) => unknown;

const COMPOSITION = Symbol.for('deployr.composition');

/**
 * series()/parallel() as data. Marked with a registry symbol, not a class,
 * so a config loaded through another copy of deployr is still recognised.
 */
export interface Composition {
  readonly [COMPOSITION]: true;
  readonly kind: 'series' | 'parallel';
  readonly items: readonly TaskRef[];
}

/** What can stand for a task: its name, a function, or a composition. */
export type TaskRef = string | TaskFn | Composition;

export interface TaskOptions {
  /** One line shown by `deployr list`. */
  description?: string;
  /** Run only on hosts with at least one of these roles. */
  roles?: string[];
  /** Run once per run instead of on every host: on the first selected host (of `roles`, if set). */
  once?: boolean;
  /** Run once, on this machine (through the local transport), e.g. a build. */
  local?: boolean;
  /** Stop the task on a host after this many seconds: its commands are killed and the host fails. */
  timeout?: number;
}

/** A registered task. */
export interface TaskDefinition extends TaskOptions {
  readonly name: string;
  readonly run: TaskRef;
  /** The plugin that registered it; its failures are stamped with this name. */
  readonly plugin?: string;
  /** The definition this one overrides: what `ctx.original()` runs. */
  readonly previous?: TaskDefinition;
}

/**
 * Runs steps one after another. Each step runs on every host it applies to
 * before the next starts, so `series('upload', 'switch')` never switches a
 * host while another is still uploading. If a step fails on any host, later
 * steps run nowhere.
 */
export function series(...items: TaskRef[]): Composition {
  return compose('series', items);
}

/** Runs steps at the same time; the run fails if any of them fails. Each still waits for its own hosts. */
export function parallel(...items: TaskRef[]): Composition {
  return compose('parallel', items);
}

export function isComposition(value: unknown): value is Composition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[COMPOSITION] === true;
}

function compose(kind: Composition['kind'], items: TaskRef[]): Composition {
  for (const [index, item] of items.entries()) {
    if (typeof item !== 'string' && typeof item !== 'function' && !isComposition(item)) {
      throw new TypeError(`${kind}(): argument ${index + 1} is not a task name, a function or a series()/parallel()`);
    }
  }
  return Object.freeze({ [COMPOSITION]: true as const, kind, items: Object.freeze([...items]) });
}

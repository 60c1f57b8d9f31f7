import { ConfigError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { TaskRegistry } from './registry.js';
import { isComposition, type TaskDefinition, type TaskFn, type TaskOptions, type TaskRef } from './task.js';

/** A task body ready to run: a function with the name and options it runs under. */
export interface Step {
  readonly name: string;
  readonly fn: TaskFn;
  readonly options: TaskOptions;
  readonly plugin?: string;
  /** What ctx.original() runs. */
  readonly previous?: TaskDefinition;
}

/** The definition behind a task name, or a ConfigError naming the closest task. */
export function lookupTask(registry: TaskRegistry, name: string, referencedBy?: string): TaskDefinition {
  const definition = registry.get(name);
  if (definition) return definition;
  const where = referencedBy ? ` (used by "${referencedBy}")` : '';
  throw new ConfigError(`There is no task "${name}"${where}${didYouMean(name, registry.names())}`, {
    hint: 'run `deployr list` to see every task, or define it under `tasks` in deploy.config.ts',
  });
}

/** A name for an inline function in a composition: its own name, else its place in the parent. */
export function inlineName(fn: TaskFn, parent: string, index: number): string {
  return fn.name && fn.name !== 'anonymous' ? fn.name : `${parent}#${index + 1}`;
}

/**
 * Checks, before anything runs, that every task name reachable from `root`
 * exists and that no task contains itself: a typo must fail as a usage
 * error (exit 2), not halfway through a deploy.
 */
export function checkTaskTree(registry: TaskRegistry, root: TaskRef): void {
  const visit = (ref: TaskRef, path: readonly string[], parent?: string): void => {
    if (typeof ref === 'function') return;
    if (isComposition(ref)) {
      for (const item of ref.items) visit(item, path, parent);
      return;
    }
    const definition = lookupTask(registry, ref, parent);
    if (path.includes(ref)) {
      throw new ConfigError(`Task "${ref}" contains itself: ${[...path, ref].join(' → ')}`, {
        hint: 'break the cycle; to extend a task, give a function that calls ctx.original()',
      });
    }
    const around = registry.aroundOf(ref);
    for (const item of [...(around?.before ?? []), ...(around?.after ?? [])]) visit(item, [...path, ref], ref);
    visitDefinition(definition, [...path, ref]);
  };
  const visitDefinition = (definition: TaskDefinition, path: readonly string[]): void => {
    if (typeof definition.run === 'function') {
      // An override's original is reachable through ctx.original(); check what it refers to as well.
      if (definition.previous) visitDefinition(definition.previous, path);
      return;
    }
    visit(definition.run, path, definition.name);
  };
  visit(root, []);
}

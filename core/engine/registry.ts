import { ConfigError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { isComposition, type TaskDefinition, type TaskOptions, type TaskRef } from './task.js';

/**
 * The tasks of one Deployr instance, by name. Registering a name again
 * overrides it; the override keeps the definition it replaced as `previous`,
 * which is what `ctx.original()` runs (collective.hostout's "superfun").
 */
/** Tasks that run before and after another one, wherever it runs. */
export interface Around {
  readonly before: readonly TaskRef[];
  readonly after: readonly TaskRef[];
}

export class TaskRegistry {
  private readonly tasks = new Map<string, TaskDefinition>();
  private readonly arounds = new Map<string, { before: TaskRef[]; after: TaskRef[] }>();

  /** Adds `task` before or after `target`: later `before`s run closer to the target, later `after`s later. */
  around(target: string, when: 'before' | 'after', task: TaskRef): void {
    if (!this.tasks.has(target)) {
      throw new ConfigError(`Cannot run a task ${when} "${target}": there is no such task${didYouMean(target, this.names())}`, {
        hint: 'name a task from `deployr list`, e.g. deploy:switch',
      });
    }
    if (typeof task !== 'string' && typeof task !== 'function' && !isComposition(task)) {
      throw new ConfigError(`The task to run ${when} "${target}" has no body`, { hint: 'give a task name, a function, or series()/parallel()' });
    }
    if (task === target) throw new ConfigError(`Task "${target}" cannot run ${when} itself`, { hint: `remove it from ${when}` });
    const entry = this.arounds.get(target) ?? { before: [], after: [] };
    // In call order either way, so a config list `before: { x: ['a', 'b'] }` runs a, b, x.
    entry[when].push(task);
    this.arounds.set(target, entry);
  }

  aroundOf(name: string): Around | undefined {
    return this.arounds.get(name);
  }

  register(name: string, run: TaskRef, options: TaskOptions = {}, plugin?: string): TaskDefinition {
    if (typeof name !== 'string' || !/^[^\s]+$/.test(name)) {
      throw new ConfigError(`Task name ${JSON.stringify(name)} is not valid`, { hint: 'use a name without spaces, e.g. "db:migrate"' });
    }
    if (typeof run !== 'string' && typeof run !== 'function' && !isComposition(run)) {
      throw new ConfigError(`Task "${name}" has no body`, { hint: 'give it a function, a task name, or series()/parallel()' });
    }
    if (run === name) {
      throw new ConfigError(`Task "${name}" refers to itself`, { hint: 'to extend a task, give a function and call ctx.original() inside' });
    }
    const previous = this.tasks.get(name);
    const definition: TaskDefinition = Object.freeze({
      // An override without a description of its own keeps the one it replaces, so `list` still explains it.
      ...(previous?.description !== undefined ? { description: previous.description } : {}),
      ...options,
      name,
      run,
      ...(plugin === undefined ? {} : { plugin }),
      ...(previous === undefined ? {} : { previous }),
    });
    // Map#set on an existing key keeps its position: an override is listed where the original was.
    this.tasks.set(name, definition);
    return definition;
  }

  get(name: string): TaskDefinition | undefined {
    return this.tasks.get(name);
  }

  list(): TaskDefinition[] {
    return [...this.tasks.values()];
  }

  names(): string[] {
    return [...this.tasks.keys()];
  }
}

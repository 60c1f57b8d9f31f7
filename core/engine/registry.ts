import { ConfigError } from '../errors.js';
import { isComposition, type TaskDefinition, type TaskOptions, type TaskRef } from './task.js';

/**
 * The tasks of one Deployr instance, by name. Registering a name again
 * overrides it; the override keeps the definition it replaced as `previous`,
 * which is what `ctx.original()` runs (collective.hostout's "superfun").
 */
export class TaskRegistry {
  private readonly tasks = new Map<string, TaskDefinition>();

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

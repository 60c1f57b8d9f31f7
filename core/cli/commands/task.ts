import { ConfigError } from '../../errors.js';
import type { HostOptions } from '../options.js';
import { openProject, runTask } from '../session.js';

/** `deployr <task> <env> [args…]`: runs a task on the environment's selected hosts. */
export async function taskCommand(task: string | undefined, environment: string | undefined, args: string[], options: HostOptions): Promise<number> {
  if (!task || !environment) {
    throw new ConfigError(task ? `Which environment should "${task}" run on?` : 'Which task, on which environment?', {
      hint: 'usage: deployr <task> <env>, e.g. `deployr deploy prod`; `deployr list` shows tasks and environments',
    });
  }
  const project = await openProject(environment, options);
  return runTask(project, task, task, options, args);
}

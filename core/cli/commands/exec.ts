import { ConfigError } from '../../errors.js';
import type { TaskContext } from '../../engine/context.js';
import type { HostOptions } from '../options.js';
import { openProject, runTask } from '../session.js';

/**
 * `deployr run <env> -- <cmd…>` and `deployr sudo <env> -- <cmd…>`: one
 * command on every selected host. The words after `--` are the command as
 * you would type it in a shell (like `ssh host cmd…`): they are joined with
 * spaces and run by the host's shell, unquoted — that is the point.
 */
export async function execCommand(mode: 'run' | 'sudo', environment: string, words: string[], options: HostOptions): Promise<number> {
  if (words.length === 0) {
    throw new ConfigError(`Nothing to ${mode}: give the command after --`, { hint: `e.g. deployr ${mode} ${environment} -- uptime` });
  }
  // A string is a script, run as written (Host#exec); never mixed with interpolated values here.
  const script = words.join(' ');
  const project = await openProject(environment, options);
  const body = async (ctx: TaskContext): Promise<void> => {
    if (mode === 'sudo') await ctx.host.sudo(script);
    else await ctx.host.exec(script);
  };
  Object.defineProperty(body, 'name', { value: mode });
  return runTask(project, body, mode, options);
}

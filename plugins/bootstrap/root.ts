import { cmd, type CommandInput, type ExecOptions, type ExecResult, type TaskContext } from 'deployr';

/** What a bootstrap step needs of its task context. */
export type StepContext = Pick<TaskContext, 'host' | 'log' | 'dryRun' | 'signal'>;

/** Runs commands as root: through sudo, or directly when the login user is root. */
export interface RootShell {
  /** True when the login user is root: commands run without sudo (which a fresh host may not have yet). */
  readonly direct: boolean;
  run(command: CommandInput, options?: ExecOptions): Promise<ExecResult>;
}

/**
 * Everything bootstrap changes needs root. An admin user goes through
 * `sudo -n`; root itself runs commands directly, since sudo is one of the
 * packages bootstrap installs and a minimal image may lack it.
 */
export async function rootShell(ctx: StepContext): Promise<RootShell> {
  const id = await ctx.host.exec(cmd`id -u`, { readOnly: true, quiet: true, signal: ctx.signal });
  const direct = id.stdout.trim() === '0';
  return {
    direct,
    run: (command, options = {}) => (direct ? ctx.host.exec(command, { signal: ctx.signal, ...options }) : ctx.host.sudo(command, { signal: ctx.signal, ...options })),
  };
}

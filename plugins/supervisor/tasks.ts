// `deployr supervisor:<task> <env> [args]`, on every host the program runs on.
import { ConfigError, type Deployr, type TaskContext } from 'deployr';
import { statusCommand, tailCommand } from './commands.js';
import type { ProgramSteps } from './program.js';
import { allLogFiles } from './render.js';
import { isUnknownProgram, parseStatus } from './status.js';

export const DEFAULT_TAIL_LINES = 100;
const MAX_TAIL_LINES = 100_000;

export function registerTasks(deployr: Deployr, steps: ProgramSteps): void {
  const { program, roles } = steps.options;
  const options = roles === undefined ? {} : { roles: [...roles] };
  deployr.task('supervisor:status', (ctx) => status(ctx, steps), { ...options, description: `state of ${program} in supervisord` });
  deployr.task('supervisor:start', (ctx) => steps.control(ctx, 'start', 'task'), { ...options, description: `start ${program} and wait until it runs` });
  deployr.task('supervisor:stop', (ctx) => steps.control(ctx, 'stop', 'task'), { ...options, description: `stop ${program}` });
  deployr.task('supervisor:restart', (ctx) => steps.control(ctx, 'restart', 'task'), { ...options, description: `restart ${program} and wait until it runs` });
  deployr.task('supervisor:tail', (ctx) => tail(ctx, steps), { ...options, description: `last lines of ${program}'s logs: supervisor:tail <env> [lines, default ${DEFAULT_TAIL_LINES}]` });
}

async function status(ctx: TaskContext, steps: ProgramSteps): Promise<void> {
  const { program } = steps.options;
  const result = await ctx.host.sudo(statusCommand(program), { readOnly: true, nothrow: true, signal: ctx.signal });
  const processes = parseStatus(result.stdout);
  if (isUnknownProgram(`${result.stdout}${result.stderr}`)) {
    ctx.log.warn(`${program} is not loaded in supervisord on ${ctx.target.name}: deploy to load it`);
  } else if (processes.length === 0) {
    ctx.log.warn(`cannot read ${program}'s state on ${ctx.target.name}: ${`${result.stdout}${result.stderr}`.trim() || `exit code ${String(result.code)}`}`);
  } else if (processes.some((p) => p.state !== 'RUNNING')) {
    ctx.log.warn(`${program} on ${ctx.target.name}: ${processes.map((p) => `${p.name} ${p.state}`).join(', ')}`);
  }
  ctx.log.info(`${program}: ${processes.map((p) => p.state).join(', ') || 'unknown'}`, { supervisor: { program, processes } });
}

async function tail(ctx: TaskContext, steps: ProgramSteps): Promise<void> {
  const lines = tailLines(ctx.args);
  // Missing files (a program that never wrote to stderr) are reported by tail and skipped.
  await ctx.host.sudo(tailCommand(allLogFiles(steps.options), lines), { readOnly: true, nothrow: true, signal: ctx.signal });
}

/** `deployr supervisor:tail prod 50` → 50; no argument → 100. */
export function tailLines(args: readonly string[]): number {
  const [given, ...rest] = args;
  if (given === undefined) return DEFAULT_TAIL_LINES;
  const lines = Number(given);
  if (rest.length > 0 || !/^\d+$/.test(given) || lines < 1 || lines > MAX_TAIL_LINES) {
    throw new ConfigError(`supervisor:tail takes one argument, a number of lines from 1 to ${MAX_TAIL_LINES}; got ${args.map((a) => JSON.stringify(a)).join(' ')}`, {
      hint: `e.g. deployr supervisor:tail <env> 50 (default ${DEFAULT_TAIL_LINES})`,
    });
  }
  return lines;
}

import { setTimeout as sleep } from 'node:timers/promises';
import { DeployrError, type TaskContext } from 'deployr';
import { statusCommand, tailCommand } from './commands.js';
import type { ResolvedOptions } from './options.js';
import { logFiles } from './render.js';
import { parseStatus, verdict, type ProcessStatus } from './status.js';

/** Where the plugin is when it waits: the hint of a failure depends on what happens next. */
export type Stage = 'switch' | 'rollback' | 'postdeploy' | 'task' | 'failure';

/** First poll interval; it doubles up to POLL_MAX_MS (a long startsecs would otherwise fill the output with polls). */
const POLL_MS = 500;
const POLL_MAX_MS = 4_000;
const LOG_LINES = 15;

/**
 * Polls `supervisorctl status` until every process of the program is
 * RUNNING (it stayed up for startsecs), and fails as soon as one is
 * BACKOFF, FATAL, EXITED or STOPPED, with the end of its logs.
 */
export async function waitUntilRunning(ctx: TaskContext, options: ResolvedOptions, stage: Stage): Promise<ProcessStatus[]> {
  const deadline = Date.now() + (options.startsecs + options.waitTimeout) * 1000;
  for (let poll = 0; ; poll++) {
    const result = await ctx.host.sudo(statusCommand(options.program), { readOnly: true, nothrow: true, quiet: true, signal: ctx.signal });
    // 0: all running (or on their way), 3: some are not; anything else: no such program, or no supervisord to ask.
    if (result.code !== 0 && result.code !== 3) {
      const said = `${result.stdout}${result.stderr}`.trim();
      throw new DeployrError(`cannot read the state of program ${options.program} on ${ctx.target.name}: ${said || `supervisorctl exited with ${String(result.code)}`}`, {
        host: ctx.target.name,
        hint: 'check that supervisord runs there (deployr supervisor:status) and that the program file is in a directory supervisord.conf includes (confFile)',
      });
    }
    const processes = parseStatus(result.stdout);
    const found = verdict(processes, options.numprocs);
    if (found.kind === 'running') {
      ctx.log.info(`${options.program}: RUNNING`, { supervisor: { program: options.program, processes } });
      return processes;
    }
    if (found.kind === 'failed') throw await startFailure(ctx, options, found.process, stage);
    if (Date.now() > deadline) {
      const slow = processes.find((p) => p.state !== 'RUNNING') ?? { name: options.program, state: 'not listed', description: '' };
      throw await startFailure(ctx, options, slow, stage, `it was not RUNNING after ${options.startsecs + options.waitTimeout}s`);
    }
    await sleep(Math.min(POLL_MS * 2 ** poll, POLL_MAX_MS, Math.max(0, deadline - Date.now()) + 10), undefined, { signal: ctx.signal });
  }
}

async function startFailure(ctx: TaskContext, options: ResolvedOptions, process: ProcessStatus, stage: Stage, why?: string): Promise<DeployrError> {
  const host = ctx.target.name;
  const logs = logFiles(options, processIndex(process.name));
  const tail = await ctx.host.sudo(tailCommand([logs.stderr, logs.stdout], LOG_LINES), { readOnly: true, nothrow: true, quiet: true, signal: ctx.signal });
  const text = tail.stdout.trimEnd();
  const state = `${process.state}${process.description ? ` (${process.description})` : ''}`;
  const shown = text ? `\nlast lines of its logs:\n${text.replace(/^/gm, '  │ ')}` : `\nits logs (${logs.stderr}, ${logs.stdout}) are empty or missing`;
  const name = process.name === options.program ? options.program : `${options.program} (${process.name})`;
  return new DeployrError(`program ${name} did not start on ${host}: ${why ? `${why}, ` : ''}${state}${shown}`, { host, hint: hintFor(stage, ctx, options) });
}

/** `web:web_03` → 3; a single process is number 0. */
function processIndex(name: string): number {
  const match = /_(\d+)$/.exec(name.split(':')[1] ?? '');
  return match ? Number(match[1]) : 0;
}

function hintFor(stage: Stage, ctx: TaskContext, options: ResolvedOptions): string {
  const more = `more of its log: deployr supervisor:tail ${ctx.environment.name} 200`;
  switch (stage) {
    case 'switch':
      return `the deploy now switches every host back to the previous release and restarts ${options.program} there; fix the release (${more}) and deploy again`;
    case 'rollback':
      return `the release it went back to does not start either; ${more}`;
    case 'postdeploy':
      return `every host already runs the new release: fix it and deploy again, or go back with: deployr rollback ${ctx.environment.name}; ${more}`;
    case 'failure':
      return `start it by hand when the cause is fixed: deployr supervisor:start ${ctx.environment.name}; ${more}`;
    case 'task':
      return `fix what the log says, then: deployr supervisor:start ${ctx.environment.name}; ${more}`;
  }
}

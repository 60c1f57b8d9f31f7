import type { FailureContext, TaskContext } from '../engine/context.js';
import type { DeployrHooks } from '../engine/hooks.js';
import { deployToOf } from './layout.js';
import { releaseLock } from './lock.js';
import { onHosts } from './on-hosts.js';
import { existingReleaseRun, previousOf, type ReleaseRun } from './state.js';
import { removeReleaseCommand, switchCommand, unswitchCommand } from './switch.js';

/**
 * After a failed or interrupted deploy or rollback, on every host it
 * touched: hosts it switched go back to their previous release (unless
 * every host had switched and the run went on), the release it was making
 * is removed, and its lock is released. Whatever cannot be undone (a host
 * that is gone) is reported with what to run when it is back.
 */
export function tapUndo(hooks: DeployrHooks): void {
  hooks.failure.tapPromise({ name: 'deployr:release', stage: -100 }, async (failure) => {
    const run = existingReleaseRun(failure.shared);
    if (!run || failure.dryRun) return;
    const touched = [...new Set([...run.switched, ...run.created, ...run.locked])];
    const results = await onHosts(failure, touched, `${run.kind}:undo`, (ctx, name) => undoHost(ctx, name, run, hooks, failure));
    // The run's sets shrink as each undo step succeeds: what is left in them is what a host kept.
    for (const [index, result] of results.entries()) {
      if (result.status === 'fulfilled') continue;
      const name = touched[index] as string;
      const left: string[] = [];
      if (run.created.has(name) && !run.committed) left.push(`unfinished release ${run.target} left (the next deploy removes it)`);
      if (run.locked.has(name)) left.push(`lock left; when ${name} is back, run: deployr unlock ${failure.environment.name}`);
      left.push(`cause: ${message(result.reason)}`);
      failure.log.warn(`${name}: could not clean up after the failed ${run.kind}: ${left.join('; ')}`);
    }
  });
}

async function undoHost(ctx: TaskContext, name: string, run: ReleaseRun, hooks: DeployrHooks, failure: FailureContext): Promise<void> {
  const deployTo = deployToOf(ctx.environment);
  const at = ctx.host.cd(deployTo);
  if (!run.committed && run.switched.has(name) && run.target) {
    const previous = previousOf(run, name);
    try {
      await at.exec(previous ? switchCommand(previous) : unswitchCommand(run.target));
      run.switched.delete(name);
      ctx.log.info(previous ? `switched back: current → ${previous}` : 'switched back: no release is current, as before');
      await hooks.rollback.promise(ctx).catch((error: unknown) => ctx.log.warn(`the rollback hook failed after switching back: ${message(error)}`));
    } catch (error) {
      // Still on the new release, so it must not be removed; carry on with the lock.
      const rollback = `deployr rollback ${ctx.environment.name}${previous ? ` --to ${previous}` : ''}`;
      failure.log.warn(`${name}: still on release ${run.target} (could not switch back: ${message(error)}); run: ${rollback}`);
    }
  }
  if (!run.committed && run.kind === 'deploy' && run.created.has(name) && run.target && !run.switched.has(name)) {
    await at.exec(removeReleaseCommand(run.target));
    run.created.delete(name);
    ctx.log.info(`removed the unfinished release ${run.target}`);
  }
  if (run.locked.has(name)) {
    await releaseLock(ctx.host, deployTo, failure.runId);
    run.locked.delete(name);
  }
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

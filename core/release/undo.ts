import type { FailureContext } from '../engine/context.js';
import type { DeployrHooks } from '../engine/hooks.js';
import { Semaphore } from '../util/semaphore.js';
import { deployToOf } from './layout.js';
import { releaseLock } from './lock.js';
import { existingReleaseRun } from './state.js';
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
    const deployTo = deployToOf(failure.environment);
    const env = failure.environment.name;
    const touched = [...new Set([...run.switched, ...run.created, ...run.locked])];
    const slots = new Semaphore(failure.environment.concurrency);
    await Promise.all(
      touched.map(async (name) => {
        const release = await slots.acquire(failure.signal).catch(() => undefined);
        if (!release) return;
        const left: string[] = [];
        try {
          const ctx = await failure.contextFor(name, `${run.kind}:undo`);
          const at = ctx.host.cd(deployTo);
          if (!run.committed && run.switched.has(name) && run.target) {
            const previous = run.previous.get(name);
            try {
              await at.exec(previous ? switchCommand(previous) : unswitchCommand(run.target));
              run.switched.delete(name);
              ctx.log.info(previous ? `switched back: current → ${previous}` : 'switched back: no release is current, as before');
              await hooks.rollback.promise(ctx).catch((error: unknown) => ctx.log.warn(`the rollback hook failed after switching back: ${message(error)}`));
            } catch (error) {
              left.push(`still on release ${run.target} (could not switch back: ${message(error)}); run: deployr rollback ${env}${previous ? ` --to ${previous}` : ''}`);
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
        } catch (error) {
          if (run.created.has(name) && !run.committed) left.push(`unfinished release ${run.target} left (the next deploy removes it)`);
          if (run.locked.has(name)) left.push(`lock left; when ${name} is back, run: deployr unlock ${env}`);
          left.push(`cause: ${message(error)}`);
        } finally {
          release();
        }
        if (left.length > 0) failure.log.warn(`${name}: could not clean up after the failed ${run.kind}: ${left.join('; ')}`);
      }),
    );
  });
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

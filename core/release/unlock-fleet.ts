import type { TaskContext } from '../engine/context.js';
import { deployToOf } from './layout.js';
import { releaseLock } from './lock.js';
import { allOrThrow, onHosts } from './on-hosts.js';
import type { ReleaseRun } from './state.js';

/** Releases this run's lock on every host that has it (the success path; undo.ts does it after a failure). */
export async function unlockFleet(ctx: TaskContext, run: ReleaseRun): Promise<void> {
  run.committed = true;
  const deployTo = deployToOf(ctx.environment);
  const results = await onHosts(ctx, [...run.locked], ctx.task, async (on, name) => {
    if (!ctx.dryRun) await releaseLock(on.host, deployTo, ctx.runId, ctx.signal);
    run.locked.delete(name);
  });
  allOrThrow(results);
}

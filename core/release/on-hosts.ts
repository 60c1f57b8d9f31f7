import type { RunScopeContext, TaskContext } from '../engine/context.js';
import { Semaphore } from '../util/semaphore.js';

/**
 * How a once-per-run step (rollback's plan, unlock, undo) works across the
 * fleet: `fn` gets each named host's context, at most the environment's
 * concurrency at once, and every host settles. A TaskContext's own host
 * reuses that context. Results come back in the order of `names`.
 */
export async function onHosts<T>(
  ctx: RunScopeContext,
  names: readonly string[],
  task: string,
  fn: (on: TaskContext, name: string) => Promise<T>,
): Promise<PromiseSettledResult<T>[]> {
  const slots = new Semaphore(ctx.environment.concurrency);
  const own = 'target' in ctx ? (ctx as TaskContext) : undefined;
  return Promise.allSettled(
    names.map(async (name) => {
      const release = await slots.acquire(ctx.signal);
      try {
        return await fn(own?.target.name === name ? own : await ctx.contextFor(name, task), name);
      } finally {
        release();
      }
    }),
  );
}

/** The values of settled results, or the first failure thrown. */
export function allOrThrow<T>(results: readonly PromiseSettledResult<T>[]): T[] {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

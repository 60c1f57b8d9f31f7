import type { ResolvedHost } from '../config/resolved.js';
import type { TaskContext } from '../engine/context.js';
import { LockError, ReleaseError, type LockHolder } from '../errors.js';
import { Semaphore } from '../util/semaphore.js';
import { deployToOf } from './layout.js';
import { describeHolder, lockHolderFor } from './lock-file.js';
import { tryLock } from './lock.js';
import type { ReleaseRun } from './state.js';

const POLL_MS = 1_000;

/** The --lock-wait of this run, in seconds (0: fail at once). */
function lockWaitOf(params: Readonly<Record<string, unknown>>): number {
  const wait = params['lockWait'];
  return typeof wait === 'number' && Number.isFinite(wait) && wait > 0 ? wait : 0;
}

/**
 * Locks every selected host for this run. The first host is locked alone
 * first: two runs started together meet there, and the loser stops before
 * locking any other host, so exactly one of them proceeds. The rest connect
 * meanwhile (connecting changes nothing on a host) and are locked side by
 * side once the first is. Whatever was taken is recorded in `run.locked`,
 * which the failure path releases.
 */
export async function lockFleet(ctx: TaskContext, run: ReleaseRun): Promise<void> {
  const deployTo = deployToOf(ctx.environment);
  const holder = lockHolderFor({ runId: ctx.runId, task: run.kind, environment: ctx.environment.name });
  const deadline = Date.now() + lockWaitOf(ctx.params) * 1000;
  const [first, ...rest] = ctx.hosts;
  if (!first) return;

  const lockOne = async (target: ResolvedHost, on: TaskContext): Promise<void> => {
    let announced = false;
    // Recorded before the attempt: if Ctrl-C or a lost link cuts the answer off, the lock may be ours
    // anyway. Releasing is safe either way: releaseLock removes only a lock with this run's id.
    run.locked.add(target.name);
    for (;;) {
      const attempt = ctx.dryRun ? ({ taken: true } as const) : await tryLock(on.host, deployTo, holder, ctx.signal);
      if (attempt.taken) return;
      if (Date.now() >= deadline) throw lockedError(ctx, target.name, attempt.holder, lockWaitOf(ctx.params));
      if (!announced) {
        on.log.info(`waiting for the lock, held by ${describeHolder(attempt.holder)}`);
        announced = true;
      }
      await sleep(Math.min(POLL_MS + Math.random() * 250, Math.max(0, deadline - Date.now())), ctx.signal);
    }
  };

  const firstLocked = first.name === ctx.target.name ? lockOne(first, ctx) : reach(ctx, first).then((on) => lockOne(first, on));
  const slots = new Semaphore(ctx.environment.concurrency);
  const others = Promise.allSettled(
    rest.map(async (target) => {
      const release = await slots.acquire(ctx.signal);
      try {
        const on = await reach(ctx, target);
        await firstLocked;
        await lockOne(target, on);
      } finally {
        release();
      }
    }),
  );
  try {
    await firstLocked;
  } catch (error) {
    // Lost (or failed) on the first host: no other host was locked. Let the connections settle, then stop.
    await others;
    throw error;
  }
  const results = await others;
  const failed = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failed.length > 0) throw failed.find((error) => error instanceof LockError) ?? failed[0];
}

/** Another host's context, or an error that names that host (not the one the lock step runs on). */
async function reach(ctx: TaskContext, target: ResolvedHost): Promise<TaskContext> {
  try {
    return await ctx.contextFor(target, ctx.task);
  } catch (error) {
    throw new ReleaseError(`Cannot lock ${target.name}: ${error instanceof Error ? error.message : String(error)}`, {
      host: target.name,
      cause: error,
      hint: 'every selected host must be reachable to deploy; fix it or leave it out with --hosts',
    });
  }
}

function lockedError(ctx: TaskContext, host: string, holder: LockHolder | 'unreadable' | undefined, waited: number): LockError {
  const env = ctx.environment.name;
  return new LockError(`${env} is locked on ${host} by ${describeHolder(holder)}${waited > 0 ? `; waited ${waited}s` : ''}`, {
    host,
    ...(holder === undefined || holder === 'unreadable' ? {} : { holder }),
    hint: `wait for that run to end (or pass --lock-wait <seconds>); if it is gone, remove its lock with: deployr unlock ${env}`,
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

import type { TaskRegistry } from '../engine/registry.js';
import { deployToOf } from './layout.js';
import { describeHolder } from './lock-file.js';
import { breakLock } from './lock.js';

/** `deployr unlock <env>`: removes a stale lock (a run that crashed or lost its connection) and says whose it was. */
export function registerUnlockTask(registry: TaskRegistry): void {
  registry.register(
    'unlock',
    async (ctx) => {
      const { removed, holder } = await breakLock(ctx.host, deployToOf(ctx.environment), ctx.signal);
      if (removed) ctx.log.info(`removed the lock held by ${describeHolder(holder)}`, { unlocked: holder ?? null });
      else ctx.log.info('not locked');
    },
    { description: 'remove a stale deploy lock from every selected host and say whose it was' },
  );
}

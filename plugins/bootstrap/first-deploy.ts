import { cmd, type TaskContext } from 'deployr';
import type { BootstrapPlan } from './options.js';

/**
 * The task `beforeFirstDeploy` puts before deploy:lock: bootstraps a host
 * whose deployTo does not exist yet, and leaves the others alone (one
 * readOnly `test -d`, so a dry run of the deploy shows which hosts would be
 * bootstrapped).
 */
export function firstDeployTask(plan: BootstrapPlan, bootstrapHere: (ctx: TaskContext) => Promise<void>) {
  return async (ctx: TaskContext): Promise<void> => {
    const deployTo = ctx.environment.deployTo;
    // Without deployTo there is nothing to look for; deploy:lock says what to set.
    if (!deployTo) return;
    if (ctx.environment.connect === 'local') return ctx.log.debug('this machine (connect: local) is never bootstrapped');
    // As deploy:lock will see it: relative to the login user's home, where the session starts.
    const probe = deployTo === '~' ? '.' : deployTo.startsWith('~/') ? deployTo.slice(2) : deployTo;
    const found = await ctx.host.exec(cmd`test -d ${probe}`, { readOnly: true, nothrow: true, signal: ctx.signal });
    if (found.ok) return ctx.log.debug(`${deployTo} exists: bootstrapped already`);
    ctx.log.info(`${deployTo} does not exist yet: bootstrapping before the first deploy`);
    await bootstrapHere(ctx);
    const login = (await ctx.host.exec(cmd`id -un`, { readOnly: true, quiet: true, signal: ctx.signal })).stdout.trim();
    if (login !== plan.deployUser) ctx.log.warn(`deploy runs as ${login}, but deployTo belongs to ${plan.deployUser}: deploy as ${plan.deployUser}`);
  };
}

import type { TaskContext } from '../engine/context.js';
import type { DeployrHooks } from '../engine/hooks.js';
import type { TaskRegistry } from '../engine/registry.js';
import { RUN_ID_PATTERN } from '../engine/run-id.js';
import { series } from '../engine/task.js';
import { ConfigError, ReleaseError } from '../errors.js';
import { lockFleet } from './fleet-lock.js';
import { deployToOf } from './layout.js';
import { readReleaseState, type HostReleaseState } from './remote-state.js';
import { previousOf, releaseRun, type ReleaseRun } from './state.js';
import { allOrThrow, onHosts } from './on-hosts.js';
import { switchCommand } from './switch.js';
import { unlockFleet } from './unlock-fleet.js';

export const ROLLBACK_STEPS = ['rollback:lock', 'rollback:plan', 'rollback:switch', 'rollback:unlock'] as const;

/**
 * `rollback`: every host to the same earlier release. The plan reads every
 * host first and picks one release that is complete everywhere (or checks
 * the one given with --to); nothing switches unless every host has it.
 */
export function registerRollbackTasks(registry: TaskRegistry, hooks: DeployrHooks): void {
  const run = (ctx: TaskContext): ReleaseRun => releaseRun(ctx.shared, 'rollback');
  registry.register('rollback:lock', (ctx) => lockFleet(ctx, run(ctx)), { once: true, description: 'lock every selected host' });
  registry.register(
    'rollback:plan',
    async (ctx) => {
      const states = await readFleet(ctx);
      const state = run(ctx);
      state.target = chooseTarget(ctx, states);
      for (const [name, host] of states) state.before.set(name, host);
      ctx.log.info(`rolling back to ${state.target}`, { rollback: { to: state.target } });
    },
    { once: true, description: 'pick the release to go back to (or check --to) on every host' },
  );
  registry.register(
    'rollback:switch',
    async (ctx) => {
      const state = run(ctx);
      const target = state.target as string;
      if (previousOf(state, ctx.target.name) === target) {
        ctx.log.info(`already on ${target}`);
        return;
      }
      // Recorded first: a swap stopped by Ctrl-C or a lost link may have happened anyway, and switching back is harmless.
      state.switched.add(ctx.target.name);
      await ctx.host.cd(deployToOf(ctx.environment)).exec(switchCommand(target));
      ctx.log.info(ctx.dryRun ? `would switch current → ${target}` : `current → ${target}`);
      await hooks.rollback.promise(ctx);
    },
    { description: 'point current at that release; fire the "rollback" hook' },
  );
  registry.register('rollback:unlock', (ctx) => unlockFleet(ctx, run(ctx)), { once: true, description: 'release the lock on every host' });
  registry.register('rollback', series(...ROLLBACK_STEPS), {
    description: 'switch every selected host back to the same earlier release (--to <id> to pick it)',
  });
}

async function readFleet(ctx: TaskContext): Promise<Map<string, HostReleaseState>> {
  const deployTo = deployToOf(ctx.environment);
  const names = ctx.hosts.map((host) => host.name);
  const states = allOrThrow(await onHosts(ctx, names, ctx.task, (on) => readReleaseState(on.host, deployTo, ctx.signal)));
  return new Map(names.map((name, index) => [name, states[index] as HostReleaseState]));
}

/** --to must be a release id: a ConfigError otherwise. The CLI checks it before running anything, so a typo is a usage error (exit 2). */
export function checkReleaseId(to: string, env: string): void {
  if (!RUN_ID_PATTERN.test(to)) {
    throw new ConfigError(`--to ${to} is not a release id`, { hint: `release ids look like 20261121T114323123Z-9f3a; deployr status ${env} lists them` });
  }
}

/** The release to roll back to: --to, checked on every host, or the newest one older than the newest current that every host has complete. */
export function chooseTarget(ctx: Pick<TaskContext, 'params' | 'environment' | 'dryRun'>, states: ReadonlyMap<string, HostReleaseState>): string {
  const env = ctx.environment.name;
  const hasComplete = (state: HostReleaseState, id: string): boolean => state.releases.some((release) => release.id === id && release.complete);
  const to = ctx.params['to'];
  if (typeof to === 'string' && to !== '') {
    checkReleaseId(to, env);
    if (ctx.dryRun) return to;
    const missing = [...states].filter(([, state]) => !hasComplete(state, to)).map(([name]) => name);
    if (missing.length > 0) {
      throw new ReleaseError(`Cannot roll back to ${to}: it is missing or incomplete on ${missing.join(', ')}; no host was switched`, {
        hint: `pick a release every host has: deployr status ${env}`,
      });
    }
    return to;
  }
  if (ctx.dryRun) return '(the previous release)';
  const currents = [...states.values()].map((state) => state.current).filter((id): id is string => id !== undefined);
  const newest = currents.sort().at(-1);
  if (!newest) throw new ReleaseError(`No host of ${env} has a current release to roll back from`, { hint: `deploy first: deployr deploy ${env}` });
  const everywhere = [...states.values()]
    .map((state) => new Set(state.releases.filter((release) => release.complete && release.id < newest).map((release) => release.id)))
    .reduce((common, ids) => new Set([...common].filter((id) => ids.has(id))));
  const target = [...everywhere].sort().at(-1);
  if (!target) {
    throw new ReleaseError(`No release older than ${newest} is complete on every host of ${env}; no host was switched`, {
      hint: `deployr status ${env} shows what each host has; roll back to one of them with --to <id>`,
    });
  }
  return target;
}

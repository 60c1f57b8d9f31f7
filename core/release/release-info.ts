import type { TaskContext } from '../engine/context.js';
import { deployToOf, releasePath } from './layout.js';
import { existingReleaseRun, previousOf } from './state.js';

/** The release a deploy or rollback is working on, as plugins and hooks need it. */
export interface ReleaseInfo {
  /** The release id, the same on every host (chosen once the fleet is locked). */
  readonly id: string;
  /** Whether this run deploys a new release or rolls back to an existing one. */
  readonly kind: 'deploy' | 'rollback';
  readonly deployTo: string;
  /** `<deployTo>/releases/<id>`: where the release's files are on the host. */
  readonly path: string;
  /** The release this host was on before this run; undefined before it was read, or when it had none. */
  readonly previous?: string;
  /**
   * What the deploy ships, once `deploy:source` ran: the local directory
   * (release.source, or one a plugin chose) or releases the hosts fill
   * themselves. Lets a plugin read the new release's files on this machine,
   * e.g. to predict under --dry-run what the host does not have yet.
   */
  readonly source?: { readonly kind: 'local'; readonly dir: string } | { readonly kind: 'host' };
}

/**
 * The release of the running deploy or rollback, from any task or per-host
 * hook after `deploy:lock` (e.g. a plugin writing into the new release in
 * "prepare"); undefined outside one.
 *
 * ```ts
 * deployr.hooks.prepare.tapPromise('my-plugin', async (ctx) => {
 *   const release = releaseOf(ctx);
 *   if (release) await ctx.host.cd(release.path).exec('npm ci --omit=dev');
 * });
 * ```
 */
export function releaseOf(ctx: Pick<TaskContext, 'shared' | 'environment'> & { readonly target?: { readonly name: string } }): ReleaseInfo | undefined {
  const run = existingReleaseRun(ctx.shared);
  if (!run?.target) return undefined;
  const deployTo = deployToOf(ctx.environment);
  const previous = ctx.target ? previousOf(run, ctx.target.name) : undefined;
  const source = run.source === undefined ? undefined : run.source.fill ? ({ kind: 'host' } as const) : ({ kind: 'local', dir: run.source.dir } as const);
  return {
    id: run.target,
    kind: run.kind,
    deployTo,
    path: `${deployTo}/${releasePath(run.target)}`,
    ...(previous === undefined ? {} : { previous }),
    ...(source === undefined ? {} : { source }),
  };
}

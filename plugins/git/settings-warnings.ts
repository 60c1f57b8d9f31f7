import type { TaskContext } from 'deployr';
import type { GitOptions } from './options.js';

/**
 * Release settings the chosen strategy makes meaningless, said once per
 * deploy instead of silently ignored: the plugin, not `release.source`,
 * decides what ships, and a host-filled release is neither built nor
 * filtered on this machine.
 */
export function warnIgnoredSettings(ctx: Pick<TaskContext, 'environment' | 'log'>, options: GitOptions): void {
  const release = ctx.environment.release;
  if (release.source !== undefined) {
    ctx.log.warn(`release.source ('${release.source}') is not used: the git plugin ships the commit; its subdir option ships a part of it`);
  }
  if (options.strategy !== 'remote') return;
  if (release.buildLocally !== undefined) {
    ctx.log.warn("release.buildLocally does not run with the git plugin's remote strategy (each host fills its release from git): use release.build, which runs on each host");
  }
  if (release.ignore !== undefined) {
    ctx.log.warn("release.ignore does not apply with the git plugin's remote strategy (each host exports the whole commit): mark paths export-ignore in .gitattributes instead");
  }
}

import { cmd, reportChange, type TaskContext } from 'deployr';
import { removeCommand } from './build.js';
import { hashVenvRoot, join, KEY_PATTERN, linkPath } from './layout.js';
import type { VirtualenvSettings } from './options.js';

type Ctx = Pick<TaskContext, 'host' | 'log' | 'dryRun' | 'signal'>;

/**
 * Release scope: removes the venvs under `shared/venvs/<name>/` that no
 * release links to any more (core pruned old releases just before the
 * "cleanup" hook), so a rollback target always keeps its venv and nothing
 * else lingers. One read-only listing, then one `rm -rf` when there is
 * something to remove.
 */
export async function pruneVenvs(ctx: Ctx, settings: VirtualenvSettings, deployTo: string): Promise<string[]> {
  const root = hashVenvRoot(settings);
  const link = linkPath(settings.dir);
  const listing = await ctx.host.exec(
    cmd`cd ${deployTo} && ls -1 -- ${root} 2>/dev/null; echo deployr-links; for r in releases/*/; do readlink -- "$r"${link} || true; done`,
    { readOnly: true, quiet: true, nothrow: true, signal: ctx.signal },
  );
  const [venvs = '', links = ''] = listing.stdout.split('deployr-links\n');
  const linked = new Set(
    links
      .split('\n')
      .filter((target) => target.endsWith(`/${root}/${target.split('/').at(-1) ?? ''}`))
      .map((target) => target.split('/').at(-1) as string),
  );
  const unused = venvs
    .split('\n')
    .filter((key) => KEY_PATTERN.test(key) && !linked.has(key))
    .map((key) => `${root}/${key}`);
  if (unused.length === 0) return [];
  if (!ctx.dryRun) await ctx.host.exec(removeCommand(unused.map((path) => join(deployTo, path))), { signal: ctx.signal });
  for (const path of unused) reportChange(ctx.log, { what: `venv ${path} (no release uses it)`, status: 'removed', predicted: ctx.dryRun });
  return unused;
}

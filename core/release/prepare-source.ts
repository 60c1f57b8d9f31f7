import { resolve } from 'node:path';
import type { TaskContext } from '../engine/context.js';
import { formatBytes } from '../util/quantities.js';
import { displayPath } from '../config/display-path.js';
import { gitInfo, scanSource, type SourceTree } from './source/index.js';
import { isWithin } from './layout.js';
import { sharedEntries } from './shared-links.js';
import type { PreparedSource } from './state.js';
import { chosenReleaseSource } from './release-source.js';

/**
 * Runs on this machine, once per deploy: the local build commands, then a
 * scan of what to ship (ignore rules applied, every file hashed) and the
 * commit it comes from. The deploy target and log directory are left out
 * when they lie inside the source (a local deploy into ./.deployr).
 */
export async function prepareSource(ctx: TaskContext, root: string, logDir: string): Promise<PreparedSource> {
  const settings = ctx.environment.release;
  const chosen = chosenReleaseSource(ctx.shared);
  if (chosen?.kind === 'host') {
    const commit = chosen.git ? `, commit ${chosen.git.commit.slice(0, 12)}${chosen.git.ref ? ` (${chosen.git.ref})` : ''}` : '';
    ctx.log.info(`source ${chosen.label}: each host fills its release${commit}`, { source: { host: true, label: chosen.label, ...(chosen.git ? { git: chosen.git } : {}) } });
    return { dir: '', tree: emptyTree(), fill: chosen.fill, ...(chosen.git ? { git: chosen.git } : {}) };
  }
  const dir = chosen?.dir ?? resolve(root, settings.source ?? '.');
  for (const command of commandsOf(settings.buildLocally)) {
    if (ctx.dryRun) ctx.log.info(`would run on this machine: ${command}`);
    else await ctx.host.cd(dir).exec(command);
  }
  const exclude = [resolve(root, logDir)];
  const deployTo = ctx.environment.deployTo;
  if (ctx.environment.connect === 'local' && deployTo && !deployTo.startsWith('~')) exclude.push(resolve(root, deployTo));
  // Side by side: both only read.
  const [scanned, git] = await Promise.all([
    scanSource(dir, { ...(settings.ignore ? { ignore: settings.ignore } : {}), exclude, signal: ctx.signal }),
    chosen?.git ?? gitInfo(dir, ctx.signal),
  ]);
  const tree = withoutShared(scanned, sharedEntries(settings.shared).map((entry) => entry.path));
  for (const path of tree.skipped) ctx.log.warn(`not shipped: ${path} is not a regular file, directory or symlink`);
  const shown = chosen?.label ?? (displayPath(dir, process.cwd()) || '.');
  const commit = git ? `, commit ${git.commit.slice(0, 12)}${git.ref ? ` (${git.ref})` : ''}${git.dirty ? ' with uncommitted changes' : ''}` : '';
  ctx.log.info(`source ${shown}: ${tree.files.size} files (${formatBytes(tree.bytes)})${commit}`, {
    source: { dir, files: tree.files.size, bytes: tree.bytes, ...(git ? { git } : {}) },
  });
  return { dir, tree, ...(git ? { git } : {}) };
}

export function commandsOf(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/** Shared paths live in `shared/`, never in a release: they are not shipped. */
function withoutShared(tree: SourceTree, shared: readonly string[]): SourceTree {
  if (shared.length === 0) return tree;
  const keep = (path: string): boolean => !isWithin(path, shared);
  const files = new Map([...tree.files].filter(([path]) => keep(path)));
  return {
    ...tree,
    files,
    dirs: new Map([...tree.dirs].filter(([path]) => keep(path))),
    symlinks: new Map([...tree.symlinks].filter(([path]) => keep(path))),
    bytes: [...files.values()].reduce((sum, file) => sum + file.size, 0),
  };
}

function emptyTree(): SourceTree {
  return { root: '', files: new Map(), dirs: new Map(), symlinks: new Map(), skipped: [], bytes: 0 };
}

import { and, cmd } from '../command/index.js';
import { putEntries } from '../connection/put-dir.js';
import type { TaskContext } from '../engine/context.js';
import { formatBytes, plural } from '../util/quantities.js';
import { diffRelease } from './diff.js';
import { isWithin, MANIFEST_FILE, releasePath } from './layout.js';
import { readReleaseState } from './remote-state.js';
import { listRelease } from './remote-listing.js';
import { sharedEntries } from './shared-links.js';
import type { PreparedSource, ReleaseRun } from './state.js';

export interface UploadReport {
  readonly release: string;
  /** The release the new one was copied from, if any. */
  readonly base?: string;
  readonly sentFiles: number;
  /** Bytes of file content sent (tar headers not counted). */
  readonly sentBytes: number;
  readonly unchangedFiles: number;
  /** Paths of the previous release not carried over: gone from the source, replaced, or made by its build. */
  readonly removedPaths: number;
}

/**
 * Makes releases/<id> on one host. With a previous release there, the new
 * one starts as its hard-linked copy (`cp -al`: no data copied), loses what
 * the source no longer has or has changed, and receives only new and
 * changed files in one tar stream; replaced files are unlinked first, so
 * the previous release is never modified. With nothing changed, no file
 * content is sent at all.
 */
export async function uploadRelease(ctx: TaskContext, run: ReleaseRun, source: PreparedSource, deployTo: string, id: string): Promise<UploadReport> {
  const { host, signal } = ctx;
  const state = await readReleaseState(host, deployTo, signal);
  run.before.set(ctx.target.name, state);
  const base = state.current && state.releases.some((release) => release.id === state.current) ? state.current : undefined;
  const listing = base ? await listRelease(host, deployTo, releasePath(base), source.tree.files.keys(), signal) : undefined;
  const exclude = [MANIFEST_FILE, ...sharedEntries(ctx.environment.release.shared).map((entry) => entry.path)];
  const diff = diffRelease(source.tree, listing, exclude);
  const at = host.cd(deployTo);

  run.created.add(ctx.target.name);
  if (base) {
    // Symlinks are always re-sent (they carry no content), so the copy drops them all.
    await at.exec(
      and(
        cmd`cp -al -- ${releasePath(base)} ${releasePath(id)}`,
        cmd`cd ${releasePath(id)}`,
        cmd`find . -type l -exec rm -f {} +`,
        cmd`xargs -0 -r rm -rf --`,
      ),
      { stdin: diff.remove.map((path) => `./${path}\0`).join(''), signal },
    );
  } else if (diff.send.length === 0) {
    // With files to send, the tar command below makes the directory itself: one round trip less.
    await at.exec(cmd`mkdir -p -- ${releasePath(id)}`, { signal });
  }

  if (diff.send.length > 0) {
    await putEntries(host, source.dir, diff.send, `${deployTo}/${releasePath(id)}`, { signal });
  }
  const report: UploadReport = {
    release: id,
    ...(base === undefined ? {} : { base }),
    sentFiles: diff.sentFiles,
    sentBytes: diff.sentBytes,
    unchangedFiles: diff.unchangedFiles,
    removedPaths: diff.remove.filter((path) => !exclude.includes(path)).length,
  };
  const from = base ? `from ${base}: ` : '';
  ctx.log.info(
    `release ${id}: ${from}${ctx.dryRun ? 'would send' : 'sent'} ${plural(report.sentFiles, 'file')} (${formatBytes(report.sentBytes)}), ${report.unchangedFiles} unchanged, ${report.removedPaths} not carried over`,
    { upload: report },
  );
  return report;
}

/**
 * Makes releases/<id> on one host from a host source (useReleaseSource):
 * an empty directory the source's fill() puts the files in, which are then
 * hashed on the host for the release's manifest. Nothing is uploaded.
 */
export async function fillRelease(ctx: TaskContext, run: ReleaseRun, source: PreparedSource, deployTo: string, id: string): Promise<void> {
  const { host, signal } = ctx;
  const fill = source.fill;
  if (!fill) throw new Error('fillRelease needs a host source');
  const state = await readReleaseState(host, deployTo, signal);
  run.before.set(ctx.target.name, state);
  run.created.add(ctx.target.name);
  await host.cd(deployTo).exec(cmd`mkdir -p -- ${releasePath(id)}`, { signal });
  const previous = state.current;
  await fill(ctx, { id, kind: 'deploy', deployTo, path: `${deployTo}/${releasePath(id)}`, ...(previous === undefined ? {} : { previous }) });
  if (ctx.dryRun) {
    // The mkdir and the fill's commands were only shown: there is no directory to list (listing reads for real).
    ctx.log.info(`release ${id}: would be filled on the host`, { fill: { release: id, predicted: true } });
    return;
  }
  const listing = await listRelease(host, deployTo, releasePath(id), 'all', signal);
  // Shared paths are replaced by links in deploy:shared, next: what the source had there is not the release's.
  const shared = sharedEntries(ctx.environment.release.shared).map((entry) => entry.path);
  const files: Record<string, string> = {};
  for (const [path, file] of listing.files) if (path !== MANIFEST_FILE && !isWithin(path, shared)) files[path] = file.sha256;
  run.hostFiles.set(ctx.target.name, files);
  ctx.log.info(`release ${id}: filled on the host, ${plural(Object.keys(files).length, 'file')}`, { fill: { release: id, files: Object.keys(files).length } });
}

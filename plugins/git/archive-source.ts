// The archive strategy, once per deploy on this machine: resolve the ref,
// refuse a dirty work tree, export the commit to a temporary directory and
// make that the release's source. Core then scans it and uploads only what
// changed on each host.
import path from 'node:path';
import { DeployrError, useReleaseSource, type TaskContext } from 'deployr';
import { exportCommit } from './local-export.js';
import { openRepo, resolveLocalRef, uncommittedChanges } from './local-repo.js';
import type { ArchiveOptions } from './options.js';
import type { TempDirs } from './temp-dirs.js';

const SHOWN_CHANGES = 10;

/** `root`: the project root (the config's directory); `logDir`: where deployr writes this run's logs, never a change of yours. */
export async function archiveSource(ctx: TaskContext, options: ArchiveOptions, root: string, logDir: string, temps: TempDirs): Promise<void> {
  const dir = path.resolve(root, options.repo ?? '.');
  const repo = await openRepo(dir, options.subdir, ctx.signal);
  const resolved = await resolveLocalRef(repo, options.ref, ctx.signal);
  const where = repo.path ? `${repo.top} (${repo.path})` : repo.top;

  // Only the checked-out commit can be mistaken for the work tree: a tag or another branch is plainly not your edits.
  if (resolved.commit === repo.head) {
    const changes = await uncommittedChanges(repo, deployrOwn(ctx, root, logDir), ctx.signal);
    if (changes.length > 0) {
      const shown = changes.slice(0, SHOWN_CHANGES).map((line) => `  ${line}`).join('\n');
      const more = changes.length > SHOWN_CHANGES ? `\n  … and ${changes.length - SHOWN_CHANGES} more` : '';
      if (!options.allowDirty) {
        throw new DeployrError(`${where} has uncommitted changes, which a git archive deploy would not ship:\n${shown}${more}`, {
          hint: 'commit or stash them (git stash -u), or set allowDirty: true in the git plugin to deploy the last commit without them',
        });
      }
      ctx.log.warn(
        `${where} has ${changes.length} uncommitted change(s); allowDirty is set, so commit ${resolved.commit.slice(0, 12)} is deployed as committed and your uncommitted changes are NOT shipped (git archive ships the commit)`,
      );
    }
  }

  const tree = await exportCommit(repo, resolved.commit, (temp) => temps.add(ctx.shared, temp), ctx.signal);
  const name = resolved.ref ?? resolved.commit.slice(0, 12);
  ctx.log.info(`${ctx.dryRun ? 'would deploy' : 'deploying'} commit ${resolved.commit}${resolved.ref ? ` (${resolved.ref})` : ''} of ${where}`, {
    git: { strategy: 'archive', commit: resolved.commit, ...(resolved.ref ? { ref: resolved.ref } : {}), repo: repo.top, path: repo.path },
  });
  // dirty: false whatever the work tree: what ships is exactly the commit.
  useReleaseSource(ctx, {
    kind: 'local',
    dir: tree,
    git: { commit: resolved.commit, ...(resolved.ref ? { ref: resolved.ref } : {}), dirty: false },
    label: `git archive of ${name}`,
  });
}

/** What deployr itself writes in the project: the run logs, and with `connect: 'local'` the releases (core leaves both out of a scan too). */
function deployrOwn(ctx: TaskContext, root: string, logDir: string): string[] {
  const own = [path.resolve(root, logDir)];
  const deployTo = ctx.environment.deployTo;
  if (ctx.environment.connect === 'local' && deployTo && !deployTo.startsWith('~')) own.push(path.resolve(root, deployTo));
  return own;
}

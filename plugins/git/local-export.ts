import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeployrError } from 'deployr';
import { ARCHIVE_UMASK } from './commands.js';
import { runLocal, tail } from './local-git.js';
import type { LocalRepo } from './local-repo.js';

/** `git archive` arguments for one commit, or only `subdir` of it (export-ignore and export-subst honoured). */
export function archiveArgs(top: string, commit: string, output: string, subdir: string): string[] {
  return ['-c', ARCHIVE_UMASK, '-C', top, 'archive', '--format=tar', '-o', output, commit, ...(subdir ? ['--', subdir] : [])];
}

/** `tar` arguments unpacking it into `dir`, without the leading `subdir` components, keeping the archive's modes. */
export function extractArgs(archive: string, dir: string, subdir: string): string[] {
  const strip = subdir ? subdir.split('/').length : 0;
  return ['-x', '-p', '--no-same-owner', '-f', archive, '-C', dir, ...(strip > 0 ? [`--strip-components=${strip}`] : [])];
}

/**
 * Exports the commit into a new temporary directory on this machine and
 * returns it (`<temp>/tree`); `temp` is the directory to remove afterwards,
 * handed to `keep` before anything is written, so a failure leaves nothing.
 */
export async function exportCommit(repo: LocalRepo, commit: string, keep: (temp: string) => void, signal?: AbortSignal): Promise<string> {
  const temp = await mkdtemp(path.join(tmpdir(), 'deployr-git-'));
  keep(temp);
  const archive = path.join(temp, 'source.tar');
  const tree = path.join(temp, 'tree');
  await mkdir(tree);
  const archived = await runLocal('git', archiveArgs(repo.top, commit, archive, repo.path), signal ? { signal } : {});
  if (!archived.ok) {
    const missing = /pathspec .* did not match/.test(archived.stderr);
    throw new DeployrError(
      missing ? `${repo.path} is not in commit ${commit.slice(0, 12)} of ${repo.top}` : `git archive of ${commit.slice(0, 12)} in ${repo.top} failed: ${tail(archived.stderr)}`,
      { hint: missing ? 'check the repo and subdir options: the directory must be committed' : `run \`git -C ${repo.top} archive ${commit.slice(0, 12)} | tar -t\` to see why` },
    );
  }
  const extracted = await runLocal('tar', extractArgs(archive, tree, repo.path), signal ? { signal } : {});
  if (!extracted.ok) throw new DeployrError(`cannot unpack the git archive into ${tree}: ${tail(extracted.stderr)}`, { hint: `check free space in ${tmpdir()}` });
  await rm(archive, { force: true });
  return tree;
}

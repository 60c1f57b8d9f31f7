// The archive strategy's view of the local repository: where it is, which
// commit a ref names, and whether the work tree has uncommitted changes.
import path from 'node:path';
import { DeployrError } from 'deployr';
import { suggest } from './close-matches.js';
import { runLocal, tail } from './local-git.js';
import { shortRef, type ResolvedRef } from './remote-refs.js';

export interface LocalRepo {
  /** The work tree's top directory. */
  readonly top: string;
  /** The directory to ship, relative to `top` ('' for all of it): the repo option's place in the work tree, plus subdir. */
  readonly path: string;
  /** The checked-out commit; absent in a repository with no commits yet. */
  readonly head?: string;
}

const git = (top: string, args: readonly string[], signal?: AbortSignal) => runLocal('git', ['-C', top, ...args], signal ? { signal } : {});

/** Finds the work tree `dir` lies in; `subdir` is below `dir`. */
export async function openRepo(dir: string, subdir: string | undefined, signal?: AbortSignal): Promise<LocalRepo> {
  const where = await runLocal('git', ['-C', dir, 'rev-parse', '--show-toplevel', '--show-prefix'], signal ? { signal } : {});
  if (!where.ok) {
    throw new DeployrError(`${dir} is not in a git work tree: ${tail(where.stderr, 1)}`, {
      hint: "set repo: '<dir of your repository>' in the git plugin's options, or run `git init` and commit there",
    });
  }
  const [top = '', prefix = ''] = where.stdout.split('\n');
  const path = [prefix.replace(/\/$/, ''), subdir ?? ''].filter(Boolean).join('/');
  const head = await git(top, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], signal);
  return { top, path, ...(head.ok ? { head: head.stdout.trim() } : {}) };
}

/**
 * The commit `ref` names (anything `git rev-parse` takes: branch, tag,
 * remote branch, commit id, `main~2`), or the checked-out one. The name
 * recorded is the ref's short name, absent for a bare commit id.
 */
export async function resolveLocalRef(repo: LocalRepo, ref: string | undefined, signal?: AbortSignal): Promise<ResolvedRef> {
  if (ref === undefined || ref === 'HEAD') {
    if (!repo.head) throw new DeployrError(`${repo.top} has no commits yet: there is nothing to deploy`, { hint: 'commit your app first (git add, git commit)' });
    const branch = await git(repo.top, ['symbolic-ref', '--short', '--quiet', 'HEAD'], signal);
    return { commit: repo.head, ...(branch.ok && branch.stdout.trim() ? { ref: branch.stdout.trim() } : {}) };
  }
  const commit = await git(repo.top, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], signal);
  if (!commit.ok) {
    const listed = await git(repo.top, ['for-each-ref', '--format=%(refname:short)', 'refs/heads', 'refs/tags', 'refs/remotes'], signal);
    const names = listed.stdout.split('\n').filter(Boolean);
    throw new DeployrError(`${repo.top} has no branch, tag or commit "${ref}"${suggest(ref, names)}`, {
      hint: names.length > 0 ? `\`git -C ${repo.top} branch -a\` and \`git tag\` list what there is; fetch first if it was pushed from elsewhere` : 'commit and tag your app first',
    });
  }
  const full = await git(repo.top, ['rev-parse', '--symbolic-full-name', ref], signal);
  const name = full.ok ? full.stdout.trim().split('\n')[0] ?? '' : '';
  return { commit: commit.stdout.trim(), ...(name ? { ref: shortRef(name) } : {}) };
}

/**
 * `git status` lines of uncommitted changes and untracked files under the
 * shipped path (ignored files aside). `exclude`: absolute paths that are
 * not the user's changes, such as deployr's own run logs, which exist by
 * the time this runs.
 */
export async function uncommittedChanges(repo: LocalRepo, exclude: readonly string[] = [], signal?: AbortSignal): Promise<string[]> {
  const excluded = exclude
    .map((dir) => path.relative(repo.top, dir).split(path.sep).join('/'))
    .filter((rel) => rel !== '' && rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel))
    .map((rel) => `:(exclude,top)${rel}`);
  const status = await git(repo.top, ['status', '--porcelain', '--untracked-files=normal', '--', repo.path === '' ? '.' : repo.path, ...excluded], signal);
  if (!status.ok) throw new DeployrError(`cannot tell whether ${repo.top} has uncommitted changes: ${tail(status.stderr)}`, { hint: `run \`git -C ${repo.top} status\` to see why` });
  return status.stdout.split('\n').filter((line) => line.trim() !== '');
}

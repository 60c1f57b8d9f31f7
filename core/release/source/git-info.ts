import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where a source directory's git work tree is. */
export interface GitInfo {
  /** Full commit id of HEAD. */
  readonly commit: string;
  /** Branch name, e.g. 'main'; absent on a detached HEAD. */
  readonly ref?: string;
  /** Whether the directory has uncommitted changes or untracked files, ignored files aside. */
  readonly dirty: boolean;
}

/**
 * The commit a source dir is at, if it lies in a git work tree and git is
 * installed; undefined otherwise (never throws for "not a repo"/"no git").
 * Rejects with the signal's reason when `signal` aborts.
 */
export async function gitInfo(dir: string, signal?: AbortSignal): Promise<GitInfo | undefined> {
  // Fails with no git, outside a work tree, and in a repository with no commits yet.
  const commit = (await git(dir, ['rev-parse', 'HEAD'], signal))?.trim();
  if (!commit) return undefined;
  const [ref, status] = await Promise.all([
    git(dir, ['symbolic-ref', '--short', '-q', 'HEAD'], signal),
    git(dir, ['status', '--porcelain', '--untracked-files=normal', '--', '.'], signal),
  ]);
  const branch = ref?.trim();
  // A status that fails cannot vouch for a clean tree; one that overflows execFile's buffer had plenty to say.
  const dirty = status === undefined || status.trim() !== '';
  return { commit, ...(branch ? { ref: branch } : {}), dirty };
}

/** git's stdout, or undefined when it cannot run or exits non-zero. */
async function git(dir: string, args: readonly string[], signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['-C', dir, ...args], {
      // C locale: output parsed here must not be translated. No optional locks: a read-only look must not
      // rewrite the index under an editor or a concurrent git command.
      env: { ...process.env, LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' },
      encoding: 'utf8',
      ...(signal ? { signal } : {}),
    });
    return stdout;
  } catch {
    signal?.throwIfAborted();
    return undefined;
  }
}

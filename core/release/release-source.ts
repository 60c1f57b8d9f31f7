import type { SharedState, TaskContext } from '../engine/context.js';
import { ReleaseError } from '../errors.js';
import type { ReleaseInfo } from './release-info.js';
import type { GitInfo } from './source/index.js';

/** Where a release's source comes from, when a plugin decides it (the git plugin) instead of `release.source`. */
export type ReleaseSource = LocalReleaseSource | HostReleaseSource;

/** A directory on this machine, shipped like `release.source`: scanned (ignore rules apply), only changed files sent. */
export interface LocalReleaseSource {
  readonly kind: 'local';
  /** Absolute path of the directory to ship. */
  readonly dir: string;
  /** The commit it holds, recorded in each release's manifest and shown by `status`. */
  readonly git?: GitInfo;
  /** How to name it in the output, e.g. `git archive of main (3f2c1a9e04b1)`. */
  readonly label?: string;
}

/** Each host fills the new release itself (e.g. from its git mirror): nothing is uploaded. */
export interface HostReleaseSource {
  readonly kind: 'host';
  readonly git?: GitInfo;
  readonly label: string;
  /**
   * Puts the release's files into `release.path` (an empty directory by
   * then) on `ctx`'s host. Afterwards every file there is hashed into the
   * release's manifest. A throw fails the host; the deploy is undone.
   */
  fill(ctx: TaskContext, release: ReleaseInfo): Promise<void>;
}

const chosen = new WeakMap<SharedState, ReleaseSource>();

/**
 * Chooses this deploy's source, from a task that runs before `deploy:source`
 * (`deployr.before('deploy:source', 'my:source')`). Called twice in one run,
 * the second choice wins.
 */
export function useReleaseSource(ctx: Pick<TaskContext, 'shared'>, source: ReleaseSource): void {
  if (source.kind === 'local' && !source.dir.startsWith('/')) {
    throw new ReleaseError(`useReleaseSource: dir must be an absolute path, got "${source.dir}"`, { hint: 'resolve it first, e.g. path.resolve(dir)' });
  }
  if (source.kind === 'host' && typeof source.fill !== 'function') {
    throw new ReleaseError('useReleaseSource: a host source needs a fill(ctx, release) function');
  }
  chosen.set(ctx.shared, source);
}

/** The source a plugin chose for this run, if any. */
export function chosenReleaseSource(shared: SharedState): ReleaseSource | undefined {
  return chosen.get(shared);
}

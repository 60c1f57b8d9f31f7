import type { SharedState } from '../engine/context.js';
import type { HostReleaseState } from './remote-state.js';
import type { HostReleaseSource } from './release-source.js';
import type { GitInfo, SourceTree } from './source/index.js';

/** The source of a deploy, scanned once on this machine (or, with `fill`, made by each host itself). */
export interface PreparedSource {
  readonly dir: string;
  readonly tree: SourceTree;
  readonly git?: GitInfo;
  /** Set for a host source (useReleaseSource): each host fills its release; `tree` is empty. */
  readonly fill?: HostReleaseSource['fill'];
}

/**
 * What a deploy or rollback did so far, host by host: what the failure
 * path has to undo. Lives for one run.
 */
export interface ReleaseRun {
  readonly kind: 'deploy' | 'rollback';
  /** The release being deployed, or rolled back to (set by the plan). */
  target: string | undefined;
  /** Hosts where this run holds the lock. */
  readonly locked: Set<string>;
  /** Hosts where this run made releases/<target> (maybe partly). */
  readonly created: Set<string>;
  /** What each host had before this run changed it: read once, by the upload or the rollback plan. */
  readonly before: Map<string, HostReleaseState>;
  /** Hosts whose `current` this run switched. */
  readonly switched: Set<string>;
  /** Every host switched and the run went on: from here on a failure switches nothing back. */
  committed: boolean;
  source: PreparedSource | undefined;
  /** For a host source: the files each host made, path → sha256, for its manifest. */
  readonly hostFiles: Map<string, Readonly<Record<string, string>>>;
}

const runs = new WeakMap<SharedState, ReleaseRun>();

/** This run's release state; made by the first step that asks. */
export function releaseRun(shared: SharedState, kind: ReleaseRun['kind'], target?: string): ReleaseRun {
  let run = runs.get(shared);
  if (!run) {
    run = { kind, target, locked: new Set(), created: new Set(), before: new Map(), switched: new Set(), committed: false, source: undefined, hostFiles: new Map() };
    runs.set(shared, run);
  }
  return run;
}

/** The state of a run that has one (the failure hook asks without making one). */
export function existingReleaseRun(shared: SharedState): ReleaseRun | undefined {
  return runs.get(shared);
}

/** The release a host was on before this run (undefined: none, or not read yet). */
export function previousOf(run: ReleaseRun, host: string): string | undefined {
  return run.before.get(host)?.current;
}

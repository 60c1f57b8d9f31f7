import type { TaskContext } from '../engine/context.js';
import type { LockHolder } from '../errors.js';
import { cmd } from '../command/index.js';
import { deployToOf, manifestPath, releasePath } from './layout.js';
import { parseManifest, type ReleaseManifest } from './manifest.js';
import { listRelease } from './remote-listing.js';
import { readReleaseState, type ReleaseEntry } from './remote-state.js';

/** One host's releases as `deployr status` shows them. */
export interface HostStatus {
  readonly host: string;
  /** deployTo exists on the host. */
  readonly deployed: boolean;
  readonly current?: string;
  /** Where `current` points when that is not a release. */
  readonly currentTarget?: string;
  readonly releases: readonly ReleaseEntry[];
  readonly lock?: LockHolder | 'unreadable';
  /** Source commit of the current release, from its manifest. */
  readonly commit?: string;
  /** The branch or tag it was deployed from, from its manifest. */
  readonly ref?: string;
  /** Files of the current release that differ from its manifest: changed on the host since it was deployed. */
  readonly modified?: { readonly changed: readonly string[]; readonly missing: readonly string[] };
}

/** Reads one host: its releases, lock, and whether the current release's files still match its manifest. */
export async function hostStatus(ctx: TaskContext): Promise<HostStatus> {
  const deployTo = deployToOf(ctx.environment);
  const state = await readReleaseState(ctx.host, deployTo, ctx.signal);
  const base = {
    host: ctx.target.name,
    deployed: state.exists,
    ...(state.current === undefined ? {} : { current: state.current }),
    ...(state.currentTarget === undefined ? {} : { currentTarget: state.currentTarget }),
    releases: state.releases,
    ...(state.lock === undefined ? {} : { lock: state.lock }),
  };
  if (!state.current) return base;
  const text = await ctx.host.cd(deployTo).exec(cmd`cat ${manifestPath(state.current)}`, { quiet: true, nothrow: true, readOnly: true, signal: ctx.signal });
  const manifest = text.code === 0 ? parseManifest(text.stdout) : undefined;
  if (!manifest) return base;
  const listing = await listRelease(ctx.host, deployTo, releasePath(state.current), Object.keys(manifest.files), ctx.signal);
  return {
    ...base,
    ...(manifest.source.commit === undefined ? {} : { commit: manifest.source.commit }),
    ...(manifest.source.ref === undefined ? {} : { ref: manifest.source.ref }),
    modified: compareWithManifest(manifest, listing.files),
  };
}

/** Files added on the host are not looked for: a build adds many (node_modules), and those are not drift. */
function compareWithManifest(manifest: ReleaseManifest, files: ReadonlyMap<string, { sha256: string }>): NonNullable<HostStatus['modified']> {
  const changed: string[] = [];
  const missing: string[] = [];
  for (const [path, sha256] of Object.entries(manifest.files)) {
    const actual = files.get(path);
    if (!actual) missing.push(path);
    else if (actual.sha256 !== sha256) changed.push(path);
  }
  return { changed: changed.sort(), missing: missing.sort() };
}

/** Hosts whose current release is not the one most hosts are on (ties: the newest). */
export function findDrift(statuses: readonly HostStatus[]): { expected?: string; drifted: string[] } {
  const counts = new Map<string, number>();
  for (const status of statuses) {
    const key = status.current ?? status.currentTarget ?? '';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const [expected] = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? 1 : -1))[0] ?? [];
  const drifted = statuses.filter((status) => (status.current ?? status.currentTarget ?? '') !== expected).map((status) => status.host);
  return { ...(expected ? { expected } : {}), drifted };
}

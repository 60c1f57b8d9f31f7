import { and, cmd, type Command } from '../command/index.js';
import { manifestPath, releasePath } from './layout.js';
import type { HostReleaseState } from './remote-state.js';

/**
 * Which releases to remove so that `keep` complete ones remain, newest
 * first. `current` and `protect` always stay; incomplete ones (failed or
 * interrupted deploys) always go, since the lock says no deploy is making them.
 */
export function releasesToPrune(state: HostReleaseState, keep: number, protect: readonly string[] = []): string[] {
  const kept = new Set(protect);
  if (state.current) kept.add(state.current);
  const complete = state.releases.filter((release) => release.complete).map((release) => release.id).sort().reverse();
  for (const id of complete) {
    if (kept.size >= keep && !kept.has(id)) break;
    kept.add(id);
  }
  return state.releases.map((release) => release.id).filter((id) => !kept.has(id));
}

/** Manifests first (a half-removed release reads as incomplete), then the directories. */
export function pruneCommand(ids: readonly string[]): Command | undefined {
  if (ids.length === 0) return undefined;
  return and(cmd`rm -f ${ids.map(manifestPath)}`, cmd`rm -rf -- ${ids.map(releasePath)}`);
}

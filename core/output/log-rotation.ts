import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RUN_ID_PATTERN } from '../engine/run-id.js';

/** Written into each run directory; only directories holding it are ever deleted. */
export const RUN_MARKER = '.deployr-run';

/**
 * Deletes the oldest run directories in `logDir` so that at most `keep` remain,
 * `current` included and never deleted. A directory counts as a run only if
 * its name has the engine's run id format and it holds our marker file:
 * whatever else lives in logDir (a user's notes, a symlink, another tool's
 * files) is left alone, and does not take a kept run's place. Run ids are
 * time-based, so name order is age order.
 *
 * @returns the names deleted, oldest first.
 */
export async function pruneRuns(logDir: string, keep: number, current: string): Promise<string[]> {
  if (!Number.isFinite(keep)) return [];
  const entries = await readdir(logDir, { withFileTypes: true });
  const runs: string[] = [];
  for (const entry of entries) {
    // Dirent types come from lstat: a symlink to a directory is not a directory here.
    if (!entry.isDirectory() || entry.name === current || !RUN_ID_PATTERN.test(entry.name)) continue;
    const marker = await lstat(join(logDir, entry.name, RUN_MARKER)).catch(() => undefined);
    if (marker?.isFile()) runs.push(entry.name);
  }
  runs.sort();
  const doomed = runs.slice(0, Math.max(0, runs.length - (keep - 1)));
  for (const name of doomed) await rm(join(logDir, name), { recursive: true, force: true });
  return doomed;
}

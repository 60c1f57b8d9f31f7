import { isWithin } from './layout.js';
import type { SourceTree } from './source/index.js';
import type { RemoteListing } from './remote-listing.js';

/** How to turn a copy of the previous release into the new one. */
export interface ReleaseDiff {
  /** Paths to remove from the copy first: gone, changed (a hard-linked file is replaced, never edited), or of another type now. */
  readonly remove: readonly string[];
  /** Entries to send, parents first: new or changed files, new directories or ones whose mode changed, every symlink. */
  readonly send: readonly string[];
  readonly sentFiles: number;
  /** Bytes of file content sent. */
  readonly sentBytes: number;
  readonly unchangedFiles: number;
}

/**
 * Compares the new source with the previous release as the host has it.
 * `exclude` holds paths that are not the release's own (its manifest,
 * shared links); they are removed from the copy and never compared.
 */
export function diffRelease(source: SourceTree, previous: RemoteListing | undefined, exclude: readonly string[]): ReleaseDiff {
  const remove: string[] = [];
  const send: string[] = [];
  let sentFiles = 0;
  let sentBytes = 0;
  let unchangedFiles = 0;
  const before = previous ?? { files: new Map(), dirs: new Map() };
  const excluded = (path: string): boolean => isWithin(path, exclude);

  // Removal: whatever the new release does not have as the same kind of entry. A removed directory takes its contents.
  const removedDirs: string[] = [];
  const under = (path: string): boolean => removedDirs.some((dir) => path.startsWith(`${dir}/`));
  for (const path of [...before.dirs.keys()].sort()) {
    if (under(path)) continue;
    if (excluded(path) || !source.dirs.has(path)) {
      removedDirs.push(path);
      remove.push(path);
    }
  }
  for (const [path, file] of before.files) {
    if (under(path)) continue;
    const next = source.files.get(path);
    if (excluded(path) || !next || next.sha256 !== file.sha256 || next.mode !== file.mode) remove.push(path);
  }
  for (const ex of exclude) if (!before.dirs.has(ex) && !before.files.has(ex) && !under(ex)) remove.push(ex);

  for (const [path, mode] of source.dirs) {
    if (excluded(path)) continue;
    if (before.dirs.get(path) !== mode || under(path)) send.push(path);
  }
  for (const [path, file] of source.files) {
    if (excluded(path)) continue;
    const old = before.files.get(path);
    if (old && !under(path) && old.sha256 === file.sha256 && old.mode === file.mode) {
      unchangedFiles += 1;
      continue;
    }
    send.push(path);
    sentFiles += 1;
    sentBytes += file.size;
  }
  for (const path of source.symlinks.keys()) if (!excluded(path)) send.push(path);
  send.sort(compare);
  remove.sort(compare);
  return { remove, send, sentFiles, sentBytes, unchangedFiles };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

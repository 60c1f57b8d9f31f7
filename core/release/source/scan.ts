import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createReadStream, type Dirent, type Stats } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../../errors.js';
import { IGNORE_FILES, IgnoreStack, patternLines } from './ignore-rules.js';

/** A regular file to ship. */
export interface SourceFile {
  /** POSIX path relative to the scanned root, e.g. 'public/index.html'. */
  readonly path: string;
  /** Bytes, as hashed. */
  readonly size: number;
  /** Permission bits (`& 0o7777`). */
  readonly mode: number;
  /** Lowercase hex. */
  readonly sha256: string;
}

/** Everything `scanSource` found to ship, each map in sorted path order. */
export interface SourceTree {
  /** Absolute path of the scanned directory. */
  readonly root: string;
  /** POSIX relative path (no leading './') → file. */
  readonly files: ReadonlyMap<string, SourceFile>;
  /** Every directory below the root (not the root itself) → permission bits. */
  readonly dirs: ReadonlyMap<string, number>;
  /** Path → link target as readlink() returns it; links are never followed. */
  readonly symlinks: ReadonlyMap<string, string>;
  /** Sockets, fifos and devices: not shipped; the caller warns about them. */
  readonly skipped: readonly string[];
  /** Sum of the file sizes. */
  readonly bytes: number;
}

export interface ScanOptions {
  /** Extra ignore patterns in .gitignore syntax, relative to the root. */
  readonly ignore?: readonly string[];
  /** Absolute paths to leave out entirely, e.g. the deploy target when it lies inside the source. */
  readonly exclude?: readonly string[];
  readonly signal?: AbortSignal;
}

/** Directory names never shipped, at any depth: a repository's internals and deployr's own state. */
const ALWAYS_LEFT_OUT = new Set(['.git', '.deployr']);

/** Enough parallel reads to keep a disk busy without holding hundreds of descriptors open. */
const HASH_CONCURRENCY = 16;

const PERMISSION_HINT = 'Fix its permissions, or ignore it in .deployrignore if it should not be shipped.';

const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lists and hashes what a release ships from `dir`: every file, directory and
 * symlink below it that no .gitignore, .deployrignore or `options.ignore`
 * rule leaves out. Deterministic: the same directory gives the same tree.
 *
 * @throws SourceError when `dir` is missing or not a directory, something in
 *   it cannot be read, or a name holds a line break. Rejects with the
 *   signal's reason when `options.signal` aborts.
 */
export async function scanSource(dir: string, options: ScanOptions = {}): Promise<SourceTree> {
  const { signal } = options;
  signal?.throwIfAborted();
  const root = path.resolve(dir);
  await checkRoot(root);

  const excluded = insideRoot(root, options.exclude ?? []);
  const isExcluded = (rel: string): boolean =>
    excluded.some((ex) => ex === '' || rel === ex || rel.startsWith(`${ex}/`));
  const found: Pending[] = [];
  const dirs: Array<[string, number]> = [];
  const symlinks: Array<[string, string]> = [];
  const skipped: string[] = [];

  const walk = async (dirRel: string, parent: IgnoreStack, extraPatterns: readonly string[]): Promise<void> => {
    signal?.throwIfAborted();
    const abs = path.join(root, dirRel);
    const entries = await attempt(abs, () => readdir(abs, { withFileTypes: true }));
    const rules = parent.enter(dirRel, [...(await readIgnoreFiles(root, dirRel, entries)), ...extraPatterns]);
    const kept: string[] = [];
    // Name order, so that of several bad names the same one is reported every time.
    for (const entry of entries.sort((a, b) => byPath(a.name, b.name))) {
      const rel = dirRel === '' ? entry.name : `${dirRel}/${entry.name}`;
      const isDir = entry.isDirectory();
      if ((isDir && ALWAYS_LEFT_OUT.has(entry.name)) || isExcluded(rel) || rules.ignores(rel, isDir)) continue;
      // Paths end up in line-oriented text (manifests, logs, remote file lists); a line break would split one in two.
      if (/[\n\r]/.test(entry.name)) {
        throw new SourceError(`Cannot ship ${JSON.stringify(rel)}: its name contains a line break`, {
          hint: 'Rename it, or add it to .deployrignore if it should not be shipped.',
        });
      }
      kept.push(rel);
    }
    const stats = await Promise.all(
      kept.map(async (rel) => ({ rel, st: await attempt(path.join(root, rel), (file) => lstat(file)) })),
    );
    for (const { rel, st } of stats) {
      if (st.isDirectory()) {
        dirs.push([rel, st.mode & 0o7777]);
        await walk(rel, rules, []);
      } else if (st.isFile()) {
        found.push({ rel, mode: st.mode & 0o7777 });
      } else if (st.isSymbolicLink()) {
        symlinks.push([rel, await attempt(path.join(root, rel), (file) => readlink(file))]);
      } else {
        skipped.push(rel);
      }
    }
  };

  await walk('', IgnoreStack.EMPTY, (options.ignore ?? []).flatMap(patternLines));
  const files = (await hashAll(root, found, signal)).sort((a, b) => byPath(a.path, b.path));
  return {
    root,
    files: new Map(files.map((file) => [file.path, file])),
    dirs: new Map(dirs.sort(([a], [b]) => byPath(a, b))),
    symlinks: new Map(symlinks.sort(([a], [b]) => byPath(a, b))),
    skipped: skipped.sort(byPath),
    bytes: files.reduce((sum, file) => sum + file.size, 0),
  };
}

interface Pending {
  readonly rel: string;
  readonly mode: number;
}

async function checkRoot(root: string): Promise<void> {
  const hint = 'Check `release.source` in deploy.config.ts.';
  let st: Stats;
  try {
    st = await stat(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SourceError(`Cannot ship ${root}: it does not exist`, { hint, cause: err });
    }
    throw unreadable(root, err);
  }
  if (!st.isDirectory()) throw new SourceError(`Cannot ship ${root}: it is not a directory`, { hint });
}

/** The lines of a directory's ignore files, in the order they apply. Symlinked ignore files are not read, as in git. */
async function readIgnoreFiles(root: string, dirRel: string, entries: readonly Dirent[]): Promise<string[]> {
  const lines: string[] = [];
  for (const name of IGNORE_FILES) {
    if (!entries.some((entry) => entry.name === name && entry.isFile())) continue;
    const file = path.join(root, dirRel, name);
    lines.push(...patternLines(await attempt(file, () => readFile(file, 'utf8'))));
  }
  return lines;
}

/** The exclusions that lie inside the root, as POSIX paths relative to it ('' for the root itself). */
function insideRoot(root: string, exclude: readonly string[]): string[] {
  return exclude
    .map((ex) => path.relative(root, path.resolve(ex)))
    .filter((rel) => rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
    .map((rel) => rel.split(path.sep).join('/'));
}

/** Hashes the files, at most HASH_CONCURRENCY at once; the first failure or an abort stops the rest. */
async function hashAll(root: string, pending: readonly Pending[], signal: AbortSignal | undefined): Promise<SourceFile[]> {
  const stop = new AbortController();
  // Each open read stream listens on it: one per worker, more than Node's default warning threshold.
  setMaxListeners(HASH_CONCURRENCY + 1, stop.signal);
  const onAbort = (): void => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const results: SourceFile[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = pending[next++]; item !== undefined && !stop.signal.aborted; item = pending[next++]) {
      results.push(await hashFile(root, item, stop.signal));
    }
  };
  try {
    const workers = Array.from({ length: Math.min(HASH_CONCURRENCY, pending.length) }, () =>
      worker().catch((err: unknown) => stop.abort(err)),
    );
    // Wait for every worker, so no read is still running once this returns or throws.
    await Promise.all(workers);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  // The first reason wins: the caller's abort, or the first file that failed.
  if (stop.signal.aborted) throw stop.signal.reason;
  return results;
}

async function hashFile(root: string, { rel, mode }: Pending, signal: AbortSignal): Promise<SourceFile> {
  const hash = createHash('sha256');
  // Counted while hashing rather than taken from lstat, so size and digest describe the same bytes.
  let size = 0;
  try {
    for await (const chunk of createReadStream(path.join(root, rel), { signal })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw unreadable(path.join(root, rel), err);
  }
  return { path: rel, size, mode, sha256: hash.digest('hex') };
}

/** Runs a filesystem call on `file`, turning its failure into a SourceError that names the file. */
async function attempt<T>(file: string, call: (file: string) => Promise<T>): Promise<T> {
  try {
    return await call(file);
  } catch (err) {
    throw unreadable(file, err);
  }
}

function unreadable(file: string, err: unknown): SourceError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const denied = code === 'EACCES' || code === 'EPERM';
  const reason = denied ? 'permission denied' : err instanceof Error ? err.message : String(err);
  return new SourceError(`Cannot read ${JSON.stringify(file)}: ${reason}`, {
    hint: denied ? PERMISSION_HINT : 'Check that nothing changes the source while deployr scans it, then try again.',
    cause: err,
  });
}

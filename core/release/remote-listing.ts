import { cmd } from '../command/index.js';
import type { Host } from '../connection/host.js';
import { cdArg } from '../connection/paths.js';

/** The regular files and directories of a release on a host (symlinks are not listed: they are always re-sent). */
export interface RemoteListing {
  /** path → { mode, sha256 }; sha256 is '' for a file that was not asked to be hashed. */
  readonly files: ReadonlyMap<string, { readonly mode: number; readonly sha256: string }>;
  /** path → mode; the release directory itself is not listed. */
  readonly dirs: ReadonlyMap<string, number>;
}

/**
 * Lists a release directory in one command: every directory and file with
 * its mode, and the sha256 of the files named in `hash` (the ones worth
 * comparing: what the new source has). Files a build made there, such as
 * node_modules, are listed but never read. GNU and BusyBox both have
 * `find -exec … {} +`, `stat -c`, `xargs -0 -r` and `sha256sum`. The host
 * reads its own files: what is compared is what is really there, not
 * what a manifest says should be.
 */
export async function listRelease(host: Host, deployTo: string, releaseDir: string, hash: Iterable<string> | 'all', signal?: AbortSignal): Promise<RemoteListing> {
  // 'all' (a release a host filled itself): every file is hashed, in the same command.
  const sums = hash === 'all' ? cmd`{ find . -type f -print0 | xargs -0 -r sha256sum --; }` : cmd`{ xargs -0 -r sha256sum -- 2>/dev/null || true; }`;
  const script = cmd`cd ${cdArg(deployTo)} && cd ${cdArg(releaseDir)} && find . -type d -exec stat -c 'd %a %n' {} + && find . -type f -exec stat -c 'm %a %n' {} + && ${sums}`;
  const stdin = hash === 'all' ? undefined : [...hash].map((path) => `./${path}\0`).join('');
  const { stdout } = await host.exec(script, { quiet: true, readOnly: true, ...(stdin === undefined ? {} : { stdin }), ...(signal ? { signal } : {}) });
  return parseListing(stdout);
}

export function parseListing(stdout: string): RemoteListing {
  const modes = new Map<string, number>();
  const hashes = new Map<string, string>();
  const dirs = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    // dotAll: a name may hold \r or U+2028, which `.` would not match.
    const stat = /^([dm]) ([0-7]+) (.*)$/s.exec(line);
    if (stat) {
      const path = relative(stat[3] as string);
      const mode = parseInt(stat[2] as string, 8);
      if (stat[1] === 'd') {
        if (path !== '') dirs.set(path, mode);
      } else modes.set(path, mode);
      continue;
    }
    // GNU sha256sum escapes a name holding a backslash, newline or (coreutils 9) carriage return and marks the line with a leading backslash.
    const sum = /^(\\?)([0-9a-f]{64}) [ *](.*)$/s.exec(line);
    if (sum) {
      const name = sum[1] ? (sum[3] as string).replace(/\\([\\nr])/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')) : (sum[3] as string);
      hashes.set(relative(name), sum[2] as string);
    }
  }
  const files = new Map<string, { mode: number; sha256: string }>();
  for (const [path, mode] of modes) files.set(path, { mode, sha256: hashes.get(path) ?? '' });
  return { files, dirs };
}

function relative(path: string): string {
  return path === '.' ? '' : path.replace(/^\.\//, '');
}

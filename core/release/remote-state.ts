import { cmd, raw } from '../command/index.js';
import type { Host } from '../connection/host.js';
import { cdArg } from '../connection/paths.js';
import { RUN_ID_PATTERN } from '../engine/run-id.js';
import type { LockHolder } from '../errors.js';
import { CURRENT_LINK, LOCK_FILE, MANIFEST_FILE, RELEASES_DIR } from './layout.js';
import { parseLockHolder } from './lock-file.js';

export interface ReleaseEntry {
  readonly id: string;
  /** Has its manifest: it was completed. Incomplete ones are leftovers of failed or interrupted deploys. */
  readonly complete: boolean;
}

/** What one host has under deployTo. */
export interface HostReleaseState {
  /** deployTo exists. */
  readonly exists: boolean;
  /** The release `current` points at, when it points at one. */
  readonly current?: string;
  /** Where `current` points when that is not a release (someone changed it by hand). */
  readonly currentTarget?: string;
  /** Every release directory, oldest first. */
  readonly releases: readonly ReleaseEntry[];
  /** Whoever holds the lock; `unreadable` when the lock file is not ours to parse. */
  readonly lock?: LockHolder | 'unreadable';
}

/**
 * One command, run inside deployTo (or not, when it is missing), that prints
 * the state line by line: `current <link>`, `release <id> <complete|incomplete>`,
 * `lock <json>`. Only ids of our own format are listed.
 */
const STATE_SCRIPT = raw(
  [
    `printf 'current %s\\n' "$(readlink ${CURRENT_LINK} 2>/dev/null)"`,
    `for d in ${RELEASES_DIR}/*/; do [ -d "$d" ] || continue; n=\${d#${RELEASES_DIR}/}; n=\${n%/}; if [ -f "$d${MANIFEST_FILE}" ]; then echo "release $n complete"; else echo "release $n incomplete"; fi; done`,
    `if [ -f ${LOCK_FILE} ]; then printf 'lock '; tr -d '\\n' < ${LOCK_FILE}; echo; fi`,
  ].join('; '),
);

export async function readReleaseState(host: Host, deployTo: string, signal?: AbortSignal): Promise<HostReleaseState> {
  const probe = cmd`if cd ${cdArg(deployTo)} 2>/dev/null; then echo exists; ${STATE_SCRIPT}; fi`;
  // readOnly: --dry-run reads the real state, so it can say what a deploy would send.
  const result = await host.exec(probe, { quiet: true, readOnly: true, ...(signal ? { signal } : {}) });
  return parseReleaseState(result.stdout);
}

export function parseReleaseState(stdout: string): HostReleaseState {
  const lines = stdout.split('\n');
  if (lines[0] !== 'exists') return { exists: false, releases: [] };
  let current: string | undefined;
  let currentTarget: string | undefined;
  let lock: HostReleaseState['lock'];
  const releases: ReleaseEntry[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('current ')) {
      const target = line.slice('current '.length);
      const id = /^(?:\.\/)?releases\/([^/]+)\/?$/.exec(target)?.[1];
      if (id && RUN_ID_PATTERN.test(id)) current = id;
      else if (target !== '') currentTarget = target;
    } else if (line.startsWith('release ')) {
      const [, id, status] = line.split(' ');
      if (id && RUN_ID_PATTERN.test(id)) releases.push({ id, complete: status === 'complete' });
    } else if (line.startsWith('lock ')) {
      lock = parseLockHolder(line.slice('lock '.length)) ?? 'unreadable';
    }
  }
  releases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    exists: true,
    ...(current === undefined ? {} : { current }),
    ...(currentTarget === undefined ? {} : { currentTarget }),
    releases,
    ...(lock === undefined ? {} : { lock }),
  };
}

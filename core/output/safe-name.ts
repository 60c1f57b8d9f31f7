import { createHash } from 'node:crypto';

/**
 * Run ids become directory names: a letter or digit, then letters, digits,
 * `.`, `_`, `-` (no path separators, no `..`, no hidden names). The engine's
 * time-based ids pass; anything else is refused rather than mangled, because
 * the directory name is how a run's logs are found again.
 */
export function isSafeRunId(runId: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(runId);
}

const MAX_NAME = 80;

/**
 * A portable file name for a host name: `deploy@10.0.0.1`, `[::1]:2222` or
 * `a/b` must not escape the run directory or differ only in characters some
 * file systems drop. Unsafe characters become `_`; long names are cut and
 * keep a hash of the original so they stay distinct.
 */
export function safeFileName(name: string): string {
  let safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  // No hidden files, nothing that reads as an option, no Windows device names.
  if (!/^[A-Za-z0-9]/.test(safe) || /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i.test(safe)) safe = '_' + safe;
  if (safe.length > MAX_NAME) {
    safe = `${safe.slice(0, MAX_NAME)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  }
  return safe;
}

/**
 * Hands out one distinct file name per host. Two hosts can map to the same
 * safe name (`web/1`, `web_1`) or differ only in case (`Web-1`, `web-1` on
 * macOS), so later ones get `-2`, `-3`… Names are given in the order hosts
 * are first seen — the run's host list — so they are stable for a config.
 */
export class FileNames {
  private readonly byName = new Map<string, string>();
  private readonly taken = new Set<string>();

  /** @param reserved base names already used by someone else (e.g. `run` for run.log). */
  constructor(reserved: readonly string[] = []) {
    for (const name of reserved) this.taken.add(name.toLowerCase());
  }

  get(name: string): string {
    const known = this.byName.get(name);
    if (known !== undefined) return known;
    const base = safeFileName(name);
    let candidate = base;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${base}-${n}`;
    this.taken.add(candidate.toLowerCase());
    this.byName.set(name, candidate);
    return candidate;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }
}

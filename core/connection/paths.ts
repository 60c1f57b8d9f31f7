import { posix } from 'node:path';
import { cmd, raw, type Command } from '../command/index.js';

/**
 * A remote path as one shell word. Quoting would disable tilde expansion, so
 * a leading `~/` stays bare and only the rest is quoted: `~/'my app'`.
 */
export function pathArg(path: string): Command {
  if (path === '~') return cmd`${raw('~')}`;
  if (path.startsWith('~/')) return cmd`${raw('~/')}${path.slice(2)}`;
  return cmd`${path}`;
}

/** Resolves `dir` against the current remote directory, as nested `cd()` calls do. */
export function joinRemote(current: string | undefined, dir: string): string {
  if (current === undefined || dir.startsWith('/') || dir.startsWith('~')) return dir;
  return posix.join(current, dir);
}

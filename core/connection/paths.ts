import { posix } from 'node:path';
import { cmd, raw, type Command } from '../command/index.js';

/**
 * A remote path as one shell word. Quoting would disable tilde expansion, so
 * a leading `~` or `~user` stays bare and only the rest is quoted: `~/'my app'`.
 */
export function pathArg(path: string): Command {
  // ~ or ~user, alone or followed by a path: the tilde prefix must stay bare to expand.
  const tilde = /^~([a-z_][a-z0-9_-]*)?(?=\/|$)/.exec(path);
  if (!tilde) return cmd`${path}`;
  const rest = path.slice(tilde[0].length);
  if (rest === '' || rest === '/') return cmd`${raw(tilde[0] + rest)}`;
  return cmd`${raw(`${tilde[0]}/`)}${rest.slice(1)}`;
}

/**
 * A directory for `cd`: `cd -x` would read a relative dir starting with a
 * dash as an option (and `cd -` as $OLDPWD), so those get a `./` in front.
 */
export function cdArg(dir: string): Command {
  return pathArg(dir.startsWith('-') ? `./${dir}` : dir);
}

/** Resolves `dir` against the current remote directory, as nested `cd()` calls do. */
export function joinRemote(current: string | undefined, dir: string): string {
  if (current === undefined || dir.startsWith('/') || dir.startsWith('~')) return dir;
  return posix.join(current, dir);
}

import { and, cmd, type Command } from '../command/index.js';
import { CURRENT_LINK, manifestPath, releasePath } from './layout.js';

const NEXT_LINK = `${CURRENT_LINK}.deployr-next`;

/**
 * Points `current` at a release atomically (run inside deployTo): a new
 * symlink, renamed over the old one, so there is no moment without
 * `current`. Refuses a release without its manifest: an incomplete one.
 * `mv -T` (GNU coreutils) renames the link itself instead of moving into
 * the directory it points at.
 */
export function switchCommand(id: string): Command {
  return and(
    cmd`if [ ! -f ${manifestPath(id)} ]; then echo ${`release ${id} is missing or incomplete here`} >&2; exit 1; fi`,
    cmd`rm -f ${NEXT_LINK}`,
    cmd`ln -s ${releasePath(id)} ${NEXT_LINK}`,
    cmd`mv -T -f ${NEXT_LINK} ${CURRENT_LINK}`,
  );
}

/** Removes `current` if it points at `id`: undoing the switch of a host that had no release before. */
export function unswitchCommand(id: string): Command {
  return cmd`if [ "$(readlink ${CURRENT_LINK})" = ${releasePath(id)} ]; then rm -f ${CURRENT_LINK}; fi`;
}

/** Removes a release unless `current` points at it; the manifest goes first, so a half-removed one reads as incomplete. */
export function removeReleaseCommand(id: string): Command {
  return cmd`if [ "$(readlink ${CURRENT_LINK} 2>/dev/null)" != ${releasePath(id)} ]; then rm -f ${manifestPath(id)}; rm -rf -- ${releasePath(id)}; fi`;
}

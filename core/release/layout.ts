import type { ResolvedEnvironment } from '../config/resolved.js';
import { ConfigError } from '../errors.js';

/**
 * Where things live on a host, relative to `deployTo` (every release command
 * runs there, so paths stay short and `~/app` works):
 *
 * ```
 * <deployTo>/current → releases/<id>      switched by rename, never edited in place
 * <deployTo>/releases/<id>/               one directory per release
 * <deployTo>/releases/<id>/.deployr-release.json   its manifest: a release without one is incomplete
 * <deployTo>/shared/                      files and directories that survive releases
 * <deployTo>/.deployr/lock.json           the deploy lock, while a run holds it
 * ```
 */
export const RELEASES_DIR = 'releases';
export const CURRENT_LINK = 'current';
export const SHARED_DIR = 'shared';
export const META_DIR = '.deployr';
export const LOCK_FILE = `${META_DIR}/lock.json`;
export const MANIFEST_FILE = '.deployr-release.json';

export function releasePath(id: string): string {
  return `${RELEASES_DIR}/${id}`;
}

export function manifestPath(id: string): string {
  return `${releasePath(id)}/${MANIFEST_FILE}`;
}

/** The environment's deployTo, or a ConfigError saying where to set it. */
export function deployToOf(environment: ResolvedEnvironment): string {
  if (environment.deployTo) return environment.deployTo.replace(/\/+$/, '') || '/';
  throw new ConfigError(`Environment "${environment.name}" has no deployTo, so there is nowhere to put releases`, {
    hint: "set deployTo in deploy.config.ts (for the whole config or this environment), e.g. deployTo: '/srv/myapp'",
  });
}

/** `path` is one of `roots` or lies below one (relative paths, no trailing slash). */
export function isWithin(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(`${root}/`));
}

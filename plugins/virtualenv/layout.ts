import { posix } from 'node:path';
import { cmd, raw, type Host } from 'deployr';
import type { VirtualenvSettings } from './options.js';

/**
 * Where venvs live, relative to deployTo (core's layout: releases/<id>,
 * current, shared/):
 *
 * ```
 * shared/<name>/                     scope 'shared': the one venv, updated in place
 * shared/venvs/<name>/<hash>/        scope 'release': one venv per fingerprint, shared by releases that have it
 * releases/<id>/<dir> → ../../shared/…   each release's view of its venv (a relative symlink)
 * ```
 */
export function sharedVenvPath(settings: Pick<VirtualenvSettings, 'name'>): string {
  return `shared/${settings.name}`;
}

export function hashVenvRoot(settings: Pick<VirtualenvSettings, 'name'>): string {
  return `shared/venvs/${settings.name}`;
}

/** Release-scope venvs are named by the first 16 hex digits of their fingerprint's hash. */
export const KEY_LENGTH = 16;
export const KEY_PATTERN = /^[0-9a-f]{16}$/;

export function venvPathFor(settings: Pick<VirtualenvSettings, 'name' | 'scope'>, hash: string): string {
  return settings.scope === 'shared' ? sharedVenvPath(settings) : `${hashVenvRoot(settings)}/${hash.slice(0, KEY_LENGTH)}`;
}

/** `dir` without `./`, doubled or trailing slashes: the path a release holds the link at. */
export function linkPath(dir: string): string {
  return posix.normalize(dir).replace(/\/+$/, '');
}

/** The link's target as written into `<release>/<dir>`: relative, like core's shared links. */
export function linkTarget(dir: string, venvPath: string): string {
  const depth = linkPath(dir).split('/').length - 1;
  return `${'../'.repeat(2 + depth)}${venvPath}`;
}

/** A release's directory (core's layout: `<deployTo>/releases/<id>`). */
export function releaseDirOf(deployTo: string, id: string): string {
  return join(deployTo, `releases/${id}`);
}

/** `a` + `/` + `b`, for absolute host paths (a deployTo of `/` stays one slash). */
export function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

/**
 * deployTo as an absolute path on the host. Venvs are not relocatable (their
 * scripts name their own absolute path), so they are made at absolute paths,
 * and a relative deployTo (`app`, `~/app`) is resolved against where the
 * login shell starts, as core's commands do. Read-only: runs under --dry-run.
 */
export async function resolveDeployTo(host: Host, deployTo: string, signal?: AbortSignal): Promise<string> {
  if (deployTo.startsWith('/')) return deployTo;
  // `~` and `~user` must stay bare to expand; the pattern lets through nothing else.
  const tilde = /^~([a-z_][a-z0-9_-]*)?(?=\/|$)/.exec(deployTo);
  const base = tilde ? tilde[0] : '.';
  const rest = (tilde ? deployTo.slice(base.length) : deployTo).replace(/^\/+/, '');
  const { stdout } = await host.exec(cmd`cd ${raw(base)} && pwd`, { readOnly: true, quiet: true, ...(signal ? { signal } : {}) });
  const dir = stdout.trim();
  return rest === '' ? dir : join(dir, rest);
}

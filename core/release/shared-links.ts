import { and, cmd, type Command } from '../command/index.js';
import { releasePath, SHARED_DIR } from './layout.js';

export interface SharedEntry {
  /** Relative to the release, without a trailing slash. */
  readonly path: string;
  readonly dir: boolean;
}

/** 'storage/' → a directory, '.env' → a file. */
export function sharedEntries(shared: readonly string[] | undefined): SharedEntry[] {
  return (shared ?? []).map((spec) => ({ path: spec.replace(/\/+$/, ''), dir: spec.endsWith('/') }));
}

/**
 * Links each shared path into a release (run inside deployTo): the shared
 * copy is made empty the first time, whatever the release has at that path
 * is replaced by the link. Links are relative (`../../shared/.env`), so
 * deployTo can be moved or mounted elsewhere.
 */
export function linkSharedCommand(id: string, entries: readonly SharedEntry[]): Command | undefined {
  if (entries.length === 0) return undefined;
  const steps = entries.flatMap(({ path, dir }) => {
    const shared = `${SHARED_DIR}/${path}`;
    const inRelease = `${releasePath(id)}/${path}`;
    const depth = path.split('/').length - 1;
    const target = `${'../'.repeat(2 + depth)}${shared}`;
    const parent = (p: string): string => p.slice(0, p.lastIndexOf('/'));
    return [
      dir ? cmd`mkdir -p -- ${shared}` : cmd`mkdir -p -- ${parent(shared)} && if [ ! -e ${shared} ]; then : > ${shared}; fi`,
      cmd`rm -rf -- ${inRelease}`,
      cmd`mkdir -p -- ${parent(inRelease)}`,
      cmd`ln -s -- ${target} ${inRelease}`,
    ];
  });
  return and(...steps);
}

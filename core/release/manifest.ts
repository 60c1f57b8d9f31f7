import { hostname, userInfo } from 'node:os';
import { packageInfo } from '../util/package-info.js';
import type { SourceTree } from './source/index.js';

/**
 * What each host keeps about a release, in `releases/<id>/.deployr-release.json`.
 * It is written last, once the release is complete (files, shared links,
 * build): a release directory without one is incomplete and never a
 * rollback target.
 */
export interface ReleaseManifest {
  readonly format: 1;
  readonly id: string;
  readonly app: string;
  readonly environment: string;
  readonly host: string;
  /** ISO time the release was completed on this host. */
  readonly createdAt: string;
  /** Who deployed it, from where. */
  readonly deployedBy: { readonly user: string; readonly machine: string };
  readonly deployr: string;
  readonly source: {
    readonly commit?: string;
    readonly ref?: string;
    /** The work tree had uncommitted changes when it was shipped. */
    readonly dirty?: boolean;
  };
  /** Shared paths linked into the release. */
  readonly shared: readonly string[];
  /** sha256 of every shipped file, by path. */
  readonly files: Readonly<Record<string, string>>;
}

export interface ManifestInput {
  readonly id: string;
  readonly app: string;
  readonly environment: string;
  readonly host: string;
  readonly tree: SourceTree;
  /** Hashes of a release the host filled itself (instead of the tree's). */
  readonly files?: Readonly<Record<string, string>>;
  readonly shared: readonly string[];
  readonly source: ReleaseManifest['source'];
}

export function whoAmI(): ReleaseManifest['deployedBy'] {
  let user = process.env['USER'] ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep $USER
  }
  return { user, machine: hostname() };
}

export function createManifest(input: ManifestInput, now: Date = new Date()): ReleaseManifest {
  return {
    format: 1,
    id: input.id,
    app: input.app,
    environment: input.environment,
    host: input.host,
    createdAt: now.toISOString(),
    deployedBy: whoAmI(),
    deployr: packageInfo().version,
    source: input.source,
    shared: [...input.shared],
    files: input.files ? { ...input.files } : Object.fromEntries([...input.tree.files].map(([path, file]) => [path, file.sha256])),
  };
}

/** A manifest read back from a host, or undefined when it is not one of ours. */
export function parseManifest(text: string): ReleaseManifest | undefined {
  try {
    const value = JSON.parse(text) as Partial<ReleaseManifest>;
    if (value.format !== 1 || typeof value.id !== 'string' || typeof value.files !== 'object' || value.files === null) return undefined;
    return value as ReleaseManifest;
  } catch {
    return undefined;
  }
}

import type { Secret } from '../command/index.js';
import type { SshOptions } from '../connection/ssh/options.js';
import type { ReleaseSettings, Vars } from './types.js';

/** A host after its environment's inheritance and defaults were applied. */
export interface ResolvedHost {
  readonly name: string;
  readonly address: string;
  readonly user?: string;
  readonly port?: number;
  readonly roles: readonly string[];
  /** Config vars < environment vars < host vars, merged key by key. */
  readonly vars: Vars;
  /** Config ssh < environment ssh < host ssh (and user/port from the host string), merged key by key. */
  readonly ssh: SshOptions;
  readonly disabled: boolean;
}

/** One environment, with `extends` followed and the config's shared settings applied. */
export interface ResolvedEnvironment {
  readonly name: string;
  readonly description?: string;
  readonly connect: 'ssh' | 'local';
  /** Every host, disabled ones included (they are never selected). */
  readonly hosts: readonly ResolvedHost[];
  readonly deployTo?: string;
  readonly keepReleases: number;
  /** Merged key by key: config < base environments < this environment. */
  readonly release: Readonly<ReleaseSettings>;
  readonly concurrency: number;
  /** Config vars < environment vars (after extends). */
  readonly vars: Vars;
  /** Seconds; undefined means no default timeout. */
  readonly commandTimeout?: number;
  readonly sudoPassword?: Secret;
  /** false, or the question to ask before running. */
  readonly confirm: false | string;
}

export const DEFAULT_CONCURRENCY = 10;
export const DEFAULT_KEEP_RELEASES = 5;
/** Where per-host run logs go unless the config says otherwise, relative to the config file. */
export const DEFAULT_LOG_DIR = '.deployr/logs';

/** How a host is reached, for output: `user@address:port`, or 'local' for the local transport. */
export function describeAddress(host: ResolvedHost, connect: ResolvedEnvironment['connect']): string {
  if (connect === 'local') return 'local';
  const user = host.user ?? host.ssh.user;
  const port = host.port ?? host.ssh.port;
  return `${user ? `${user}@` : ''}${host.address}${port ? `:${port}` : ''}`;
}

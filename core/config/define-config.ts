import type { SshOptions } from '../connection/ssh/options.js';

/**
 * The shape of deploy.config.ts. This is the foundation's subset: hosts and
 * how to reach them. Tasks, hooks and plugins arrive with the engine.
 */
export interface HostConfig {
  /** Name used in logs and errors; defaults to the address. */
  name?: string;
  /** Host name, address or ~/.ssh/config alias. */
  address: string;
  user?: string;
  port?: number;
  roles?: string[];
  ssh?: SshOptions;
}

export interface EnvironmentConfig {
  /** 'user@host:port' strings or host objects. */
  hosts: Array<string | HostConfig>;
  /** 'local' runs every command on this machine through the local transport. */
  connect?: 'ssh' | 'local';
  /** SSH settings shared by every host of this environment. */
  ssh?: SshOptions;
}

export interface DeployrConfig {
  /** The application's name. */
  app: string;
  /** Where releases live on each host. */
  deployTo?: string;
  environments: Record<string, EnvironmentConfig>;
}

/** Types a deploy.config.ts: `export default defineConfig({ … })`. */
export function defineConfig<const T extends DeployrConfig>(config: T): T {
  return config;
}

import type { Secret } from '../command/index.js';
import type { SshOptions } from '../connection/ssh/options.js';
import type { Plugin } from '../engine/plugin.js';
import type { TaskRef, TaskOptions } from '../engine/task.js';

/**
 * Variables tasks read through `ctx.vars`: the config's `vars`, overridden by
 * the environment's, overridden by the host's. Augment this interface to type
 * your own:
 *
 * ```ts
 * declare module 'deployr' { interface Vars { port: number } }
 * ```
 */
export interface Vars {
  [name: string]: unknown;
}

/** A host written out in full. */
export interface HostConfig {
  /** Name used in output, logs, --hosts and errors. Default: the address. */
  name?: string;
  /** Host name, IP address or ~/.ssh/config alias. */
  address: string;
  /** Login user. Default: from ~/.ssh/config, else the environment's ssh.user, else your local user. */
  user?: string;
  port?: number;
  /** Roles select which tasks run here (`roles` on a task, `--roles` on the command line). */
  roles?: string[];
  /** Variables for this host only. */
  vars?: Vars;
  /** SSH settings for this host; they win over the environment's and the config's. */
  ssh?: SshOptions;
  /** true: keep the host in the config but never select it (e.g. out for maintenance). */
  disabled?: boolean;
}

/** `'user@host:port'` (user and port optional; `[::1]:22` for IPv6) or a HostConfig. */
export type HostEntry = string | HostConfig;

/**
 * What `deployr deploy` ships and how a release is made on each host.
 * Merged key by key across the config, base environments and the environment.
 */
export interface ReleaseSettings {
  /**
   * The directory to ship, relative to the config file. Default: the project
   * (the config file's directory). `.gitignore` and `.deployrignore` rules
   * apply; `.git/` and `.deployr/` are never shipped.
   */
  source?: string;
  /** Commands run on this machine once, before anything is shipped, e.g. 'npm run build' (then point `source` at its output). */
  buildLocally?: string | string[];
  /** More ignore patterns (.gitignore syntax), relative to `source`. */
  ignore?: string[];
  /**
   * Paths inside a release that live in `<deployTo>/shared` and survive
   * releases, linked into each one: '.env', 'storage/' (a trailing slash
   * makes a directory). Created empty the first time; never shipped.
   */
  shared?: string[];
  /** Commands run in the new release's directory on each host before any host switches, e.g. 'npm ci --omit=dev'. */
  build?: string | string[];
}

/** Settings an environment inherits from the config and from the environment it extends. */
export interface SharedSettings {
  /** Where releases live on each host. */
  deployTo?: string;
  /** How many releases to keep on each host. */
  keepReleases?: number;
  /** How many hosts work at once. Default 10. */
  concurrency?: number;
  /** SSH settings for every host. */
  ssh?: SshOptions;
  /** Variables for tasks. Merged key by key: the more specific level wins. */
  vars?: Vars;
  /** Default timeout for each command, in seconds. Default: none. */
  commandTimeout?: number;
  /** Password for sudo on hosts without NOPASSWD. Read it from the environment (process.env), never commit it. */
  sudoPassword?: string | Secret;
  /** What a deploy ships and builds: source, ignore rules, shared paths, build commands. */
  release?: ReleaseSettings;
}

export interface EnvironmentConfig extends SharedSettings {
  /** Another environment whose settings and hosts this one starts from. */
  extends?: string;
  /** The hosts of this environment. Inherited from `extends` unless set. */
  hosts?: HostEntry[];
  /** 'local' runs every command on this machine through the local transport. Default 'ssh'. */
  connect?: 'ssh' | 'local';
  /** Ask before running (true, or the question to ask). `--yes` answers it; without a terminal the run fails unless `--yes`. */
  confirm?: boolean | string;
  /** A line shown in `deployr list`. */
  description?: string;
}

/** A task in the config: a function, a series()/parallel() composition, a task name, or all that plus options. */
export type TaskEntry = TaskRef | ({ run: TaskRef } & TaskOptions);

export interface DeployrConfig extends SharedSettings {
  /** The application's name: used in release manifests, lock files and output. */
  app: string;
  /** Every environment you deploy to, by name: `deployr deploy prod`. */
  environments: Record<string, EnvironmentConfig>;
  /** Plugins, applied in order: `plugins: [supervisor({ … })]`. */
  plugins?: Plugin[];
  /** Your tasks by name. A name that is already taken (a built-in or a plugin's) overrides it; call `ctx.original()` inside to run the one you replaced. */
  tasks?: Record<string, TaskEntry>;
  /** Hook taps for this project, e.g. `hooks: { postdeploy: async (ctx) => … }`. */
  hooks?: ConfigHooks;
  /** Tasks to run before others wherever those run: `before: { 'deploy:switch': 'db:migrate' }`. */
  before?: Record<string, TaskRef | TaskRef[]>;
  /** Tasks to run after others wherever those run: `after: { 'deploy:postdeploy': 'notify' }`. */
  after?: Record<string, TaskRef | TaskRef[]>;
  /** Where per-host run logs go, relative to the config file. Default `.deployr/logs`. */
  logDir?: string;
}

/** What a function-form config receives. */
export interface ConfigEnv {
  /** The environment the command is for; undefined for commands that are not for one (`deployr list` without one). */
  environment: string | undefined;
}

/** What deploy.config.ts may export: the config, or a (possibly async) function that returns it. */
export type UserConfigExport = DeployrConfig | ((env: ConfigEnv) => DeployrConfig | Promise<DeployrConfig>);

/**
 * Hook taps written right in the config, for a project's own needs (a plugin
 * is the way to share them). Each runs like a plugin tap named 'config'.
 */
export type ConfigHooks = {
  [K in import('../engine/hooks.js').HookName]?: (
    arg: Parameters<Parameters<import('../engine/hooks.js').DeployrHooks[K]['tapPromise']>[1]>[0],
  ) => unknown;
};

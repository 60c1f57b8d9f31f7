import type { SshConnector } from '../connection/ssh/connector.js';
import type { ResolvedEnvironment, ResolvedHost } from '../config/resolved.js';
import type { DeployrConfig, UserConfigExport } from '../config/types.js';
import type { EventListener, HostFailure } from './events.js';
import type { DeployrHooks } from './hooks.js';
import type { Plugin } from './plugin.js';
import type { TaskDefinition, TaskOptions, TaskRef } from './task.js';

export interface CreateDeployrOptions {
  /** The config as deploy.config.ts exports it (object or function form). It is validated. */
  config: UserConfigExport;
  /** The environment runs are for. Required for run(); the function form of a config receives it. */
  environment?: string;
  /** Directory relative paths in the config resolve against (logDir). Default: process.cwd(). */
  root?: string;
  /** The config file's path, for messages. */
  configFile?: string;
  /** Connector to reuse (its caches, jump connections). Default: one per instance. */
  connector?: SshConnector;
}

export interface SelectOptions {
  /** Only these hosts, by name. Unknown names are an error. */
  hosts?: readonly string[];
  /** Only hosts with at least one of these roles. */
  roles?: readonly string[];
}

export interface RunOptions extends SelectOptions {
  /** How many hosts work at once. Default: the environment's. */
  concurrency?: number;
  /** Record and report commands; connect to nothing. */
  dryRun?: boolean;
  /** Abort the run (what Ctrl-C does in the CLI). The failure and done hooks still run. */
  signal?: AbortSignal;
  /** Abort the failure and done hooks as well (what a second Ctrl-C does in the CLI). */
  cleanupSignal?: AbortSignal;
  /** Extra arguments, given to tasks as ctx.args. */
  args?: readonly string[];
  /** Named options, given to tasks and hooks as ctx.params, e.g. `{ lockWait: 30 }` or `{ to: '<release id>' }`. */
  params?: Readonly<Record<string, unknown>>;
}

export interface RunResult {
  readonly runId: string;
  readonly ok: boolean;
  readonly interrupted: boolean;
  /** What the CLI exits with: 0 ok, 1 a task failed, 3 a connection or host-key failure, 130 interrupted. */
  readonly exitCode: number;
  readonly failures: readonly HostFailure[];
  /** The errors themselves, by host name ('' for a failure that belongs to no host). */
  readonly errors: ReadonlyMap<string, unknown>;
  readonly durationMs: number;
}

/** One deployr: a config, its plugins, tasks and hooks. Instances share nothing. */
export interface Deployr {
  readonly hooks: DeployrHooks;
  readonly config: DeployrConfig;
  /** The directory relative paths in the config resolve against: the config file's. */
  readonly root: string;
  /** The environment runs are for; undefined when created without one. */
  readonly environment: ResolvedEnvironment | undefined;
  readonly plugins: readonly Plugin[];
  /** Config problems that are not errors (e.g. a task's role no host has). */
  readonly warnings: readonly string[];
  /** Registers a task. Re-using a name overrides the task; the new one can call ctx.original(). */
  task(name: string, run: TaskRef, options?: TaskOptions): void;
  getTask(name: string): TaskDefinition | undefined;
  /**
   * Runs `task` before `target` wherever `target` runs, with its own roles,
   * once and local options (Deployer's `before()`), e.g. migrations once on
   * a db host right before every host switches:
   * `deployr.before('deploy:switch', 'db:migrate')`.
   */
  before(target: string, task: TaskRef): void;
  /** Runs `task` after `target` wherever `target` runs and succeeded everywhere. */
  after(target: string, task: TaskRef): void;
  /** Every task, in registration order, overrides in place of what they override. */
  listTasks(): TaskDefinition[];
  /** Subscribes to the event stream of every run; returns the unsubscribe function. */
  on(listener: EventListener): () => void;
  /** The hosts a run with these options would work on (disabled hosts never). */
  selectHosts(options?: SelectOptions): ResolvedHost[];
  /** Runs a task by name (or a function/composition) on the selected hosts. Never throws for a task's failure: read the result. */
  run(task: TaskRef, options?: RunOptions): Promise<RunResult>;
  /** Closes what the instance keeps open across runs (jump-host connections). */
  close(): Promise<void>;
}

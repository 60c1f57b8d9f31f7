/**
 * deployr's public API. Everything a config file, a plugin or a script may
 * import comes from here; anything else is internal and may change. The
 * exact list is pinned by test/integration/package.test.ts.
 */
export {
  DeployrError,
  ConfigError,
  ConnectionError,
  HostKeyError,
  CommandError,
  TransferError,
  PluginError,
  InterruptedError,
  TaskTimeoutError,
  ConfigValidationError,
  SourceError,
  ReleaseError,
  LockError,
  isDeployrError,
  type LockHolder,
  type DeployrErrorOptions,
  type CommandErrorDetails,
  type ConfigIssue,
} from './errors.js';

// Building commands. Executors unwrap secrets through Command#render(); nothing else can.
export { cmd, raw, Command, type CommandValue, type CommandInput, type Raw } from './command/command.js';
export { secret, isSecret, Secret } from './command/secret.js';
export { quote } from './command/quote.js';
export { and, or, pipe, inDir, withEnv, shell, type EnvValue } from './command/compose.js';

// Running them on hosts.
export {
  Host,
  LocalConnection,
  RecordingConnection,
  SshConnector,
  parseHostString,
  fingerprintSha256,
  type Connection,
  type TransportExecOptions,
  type TransportExecResult,
  type TransferOptions,
  type ExecOptions,
  type ExecResult,
  type HostEvent,
  type HostOptions,
  type PutDirOptions,
  type PutDirProgress,
  type PutDirResult,
  type LocalConnectionOptions,
  type RecordedCall,
  type ScriptedResult,
  type SshConnectorOptions,
  type HostKeyRecorded,
  type SshConnection,
  type SshOptions,
  type SshTarget,
  type HostKeyPolicy,
  type ResolvedSshSettings,
  type ParsedHostString,
} from './connection/index.js';

// Configuring: deploy.config.ts, its loading, and validation for plugins' own options.
export { defineConfig } from './config/define-config.js';
export { loadConfig, type LoadConfigOptions, type LoadedConfig } from './config/load.js';
export { validateConfig } from './config/validate.js';
export { resolveEnvironment } from './config/resolve-environment.js';
export type { ResolvedEnvironment, ResolvedHost } from './config/resolved.js';
export { s, validateOptions, type Schema, type Infer, type Issue } from './config/schema/index.js';
export type {
  DeployrConfig,
  EnvironmentConfig,
  HostConfig,
  HostEntry,
  SharedSettings,
  ReleaseSettings,
  TaskEntry,
  Vars,
  ConfigEnv,
  ConfigHooks,
  UserConfigExport,
} from './config/types.js';

// Tasks, hooks, plugins and runs.
export { createDeployr } from './engine/create-deployr.js';
export { series, parallel, type TaskFn, type TaskRef, type TaskOptions, type TaskDefinition, type Composition } from './engine/task.js';
export type { Deployr, CreateDeployrOptions, RunOptions, RunResult, SelectOptions } from './engine/deployr.js';
export type { TaskContext, RunContext, FailureContext, DoneContext, Logger, SharedState } from './engine/context.js';
export type { DeployrHooks, HookName } from './engine/hooks.js';
export type { Plugin } from './engine/plugin.js';
export { onlyIn } from './engine/only-in.js';
export type { DeployrEvent, DeployrEventType, ErrorInfo, HostFailure, HostSummary, EventListener, LogLevel } from './engine/events.js';

// Releases: what deploy, rollback and status do on each host.
export {
  DEPLOY_STEPS,
  ROLLBACK_STEPS,
  releaseOf,
  useReleaseSource,
  hostStatus,
  formatStatus,
  type ReleaseInfo,
  type HostStatus,
  type ReleaseManifest,
  type UploadReport,
  type ReleaseSource,
  type LocalReleaseSource,
  type HostReleaseSource,
  type GitInfo,
} from './release/index.js';

// Building blocks for plugins: idempotent steps that read first, change only what differs, report alike.
export {
  syncFile,
  unifiedDiff,
  reportChange,
  detectOs,
  parseOsRelease,
  ensurePackages,
  missingPackagesCommand,
  installPackagesCommand,
  type FileSpec,
  type FileSyncResult,
  type DiffOptions,
  type ChangeReport,
  type ChangeStatus,
  type OsInfo,
  type PackageManager,
} from './ops/index.js';
export { ExitCode } from './engine/exit-codes.js';

// The CLI's views of a run's events, for scripts that run deployr as a library.
export { attachViews, type AttachViewsOptions, type AttachedViews } from './output/index.js';

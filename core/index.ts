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
  isDeployrError,
  type DeployrErrorOptions,
  type CommandErrorDetails,
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

export { defineConfig } from './config/define-config.js';
export type {
  DeployrConfig,
  EnvironmentConfig,
  HostConfig,
  HostEntry,
  SharedSettings,
  TaskEntry,
  Vars,
  ConfigEnv,
  ConfigHooks,
  UserConfigExport,
} from './config/types.js';

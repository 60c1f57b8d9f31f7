/**
 * deployr's error hierarchy. Every error a user can cause carries a stable
 * `code` and a `hint` that says what to do next; the CLI prints message +
 * hint and never a stack trace for these.
 */
export interface DeployrErrorOptions {
  /** What the user should do next, one sentence. */
  hint?: string;
  /** Host the error happened on, when there is one. */
  host?: string;
  cause?: unknown;
}

export class DeployrError extends Error {
  readonly code: string = 'DEPLOYR_ERROR';
  readonly hint?: string;
  readonly host?: string;

  constructor(message: string, options: DeployrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.host !== undefined) this.host = options.host;
  }

  /** Message plus the next step, as the CLI prints it. */
  describe(): string {
    return this.hint ? `${this.message}\n  → ${this.hint}` : this.message;
  }
}

/** The user's configuration or arguments are wrong. */
export class ConfigError extends DeployrError {
  override readonly code: string = 'CONFIG_ERROR';
}

/** A host could not be reached, refused authentication, or dropped the connection. */
export class ConnectionError extends DeployrError {
  override readonly code: string = 'CONNECTION_ERROR';
}

/** A host presented a key that is unknown, changed or revoked. */
export class HostKeyError extends ConnectionError {
  override readonly code: string = 'HOST_KEY_ERROR';
  readonly fingerprint: string;
  readonly reason: 'unknown' | 'changed' | 'revoked' | 'unknown-type';

  constructor(
    message: string,
    details: { fingerprint: string; reason: HostKeyError['reason'] },
    options: DeployrErrorOptions = {},
  ) {
    super(message, options);
    this.fingerprint = details.fingerprint;
    this.reason = details.reason;
  }
}

export interface CommandErrorDetails {
  /** The command as logged: secrets masked. */
  command: string;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
  aborted?: boolean;
  /** Set when the command was stopped for a reason on this machine, not by the host (e.g. its stdin failed). */
  stoppedBecause?: string;
}

const STDERR_TAIL_LINES = 12;

function tail(text: string, lines: number): string {
  const all = text.replace(/\s+$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

/** A command ran and failed: non-zero exit, killed by a signal, timed out or aborted. */
export class CommandError extends DeployrError {
  override readonly code: string = 'COMMAND_ERROR';
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;

  constructor(host: string, details: CommandErrorDetails, options: Omit<DeployrErrorOptions, 'host'> = {}) {
    const how = details.timedOut
      ? 'timed out'
      : details.aborted
        ? 'was aborted'
        : details.signal
          ? `was killed by ${details.signal}`
          : `failed with exit code ${details.code}`;
    const stderrTail = tail(details.stderr, STDERR_TAIL_LINES);
    const headline = details.stoppedBecause
      ? `Command stopped on ${host}: ${details.stoppedBecause}\n  command: ${details.command}`
      : `Command ${how} on ${host}: ${details.command}`;
    const message = headline + (stderrTail ? `\n${stderrTail.replace(/^/gm, '  │ ')}` : '');
    super(message, { ...options, host });
    this.command = details.command;
    this.exitCode = details.code;
    this.signal = details.signal;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
    this.timedOut = details.timedOut ?? false;
    this.aborted = details.aborted ?? false;
  }
}

/** A file transfer failed. */
export class TransferError extends DeployrError {
  override readonly code: string = 'TRANSFER_ERROR';
}

/** The files to ship cannot be read or named safely (a missing source directory, an unreadable file). */
export class SourceError extends DeployrError {
  override readonly code: string = 'SOURCE_ERROR';
}

/** A release cannot be made, switched, found or rolled back to on some hosts. */
export class ReleaseError extends DeployrError {
  override readonly code: string = 'RELEASE_ERROR';
}

/** Who holds a deploy lock, as written into the lock file on each host. */
export interface LockHolder {
  /** Local user name of whoever started the run. */
  readonly user: string;
  /** The machine the run was started from. */
  readonly machine: string;
  readonly pid: number;
  /** ISO time the lock was taken. */
  readonly since: string;
  readonly runId: string;
  /** The task that holds it, e.g. 'deploy'. */
  readonly task: string;
  readonly environment: string;
}

/** Another run holds the deploy lock on a host (or it could not be taken). */
export class LockError extends DeployrError {
  override readonly code: string = 'LOCK_ERROR';
  /** The lock's holder, when it could be read. */
  readonly holder?: LockHolder;

  constructor(message: string, options: DeployrErrorOptions & { holder?: LockHolder } = {}) {
    const { holder, ...rest } = options;
    super(message, rest);
    if (holder !== undefined) this.holder = holder;
  }
}

export function isDeployrError(error: unknown): error is DeployrError {
  return error instanceof DeployrError;
}

/**
 * A plugin's tap or task failed. The message says where — `[deployr:git]
 * failed in "predeploy" on web-1: …` — and the original error is the cause.
 */
export class PluginError extends DeployrError {
  override readonly code: string = 'PLUGIN_ERROR';
  readonly plugin: string;
  /** The hook name, or `task "name"` for a task the plugin registered. */
  readonly hook: string;

  constructor(plugin: string, hook: string, host: string | undefined, cause: unknown) {
    const where = `[${plugin}] failed in ${hook.startsWith('task ') ? hook : `"${hook}"`}${host ? ` on ${host}` : ''}`;
    super(`${where}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      ...(host === undefined ? {} : { host }),
      ...(isDeployrError(cause) && cause.hint !== undefined ? { hint: cause.hint } : {}),
    });
    this.plugin = plugin;
    this.hook = hook;
  }
}

/** The run was stopped by Ctrl-C or SIGTERM. */
export class InterruptedError extends DeployrError {
  override readonly code: string = 'INTERRUPTED';
}

/** A task ran longer than its `timeout`. */
export class TaskTimeoutError extends DeployrError {
  override readonly code: string = 'TASK_TIMEOUT';
}

/** One problem in a config or in a plugin's options: where, and what is wrong. */
export interface ConfigIssue {
  /** Like `environments.prod.hosts[2].port`; '' for the value as a whole. */
  readonly path: string;
  readonly message: string;
}

export interface ConfigValidationErrorOptions extends DeployrErrorOptions {
  /** How a problem with the value as a whole is labelled, e.g. 'default export'. */
  rootLabel?: string;
  /** The config file, when the value came from one. */
  file?: string;
}

/**
 * A config (or a plugin's options) has problems; `issues` holds every one of
 * them, and the message lists them all, one per line:
 *
 * ```
 * deploy.config.ts has 2 problems:
 *   environments.prod.hosts[2].port: expected an integer from 1 to 65535, got "22x"
 *   plugins[0]: got a function; call it: supervisor()
 * ```
 */
export class ConfigValidationError extends ConfigError {
  readonly issues: readonly ConfigIssue[];
  readonly file?: string;

  /** `subject` starts the message: 'deploy.config.ts', 'Plugin deployr:git'. */
  constructor(subject: string, issues: readonly ConfigIssue[], options: ConfigValidationErrorOptions = {}) {
    const { rootLabel = '(top level)', file, ...rest } = options;
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((issue) => `  ${issue.path === '' ? rootLabel : issue.path}: ${issue.message}`);
    super(`${subject} has ${count}:\n${lines.join('\n')}`, rest);
    this.issues = issues;
    if (file !== undefined) this.file = file;
  }
}

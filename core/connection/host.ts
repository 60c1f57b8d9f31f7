import { randomUUID } from 'node:crypto';
import {
  and,
  assertEnvName,
  cmd,
  isSecret,
  joinCommands,
  maskSecretValues,
  revealSecret,
  secret,
  toCommand,
  withEnv,
  type Command,
  type CommandInput,
  type EnvValue,
  type Secret,
} from '../command/index.js';
import { CommandError } from '../errors.js';
import { OutputText } from './output-text.js';
import { cdArg, joinRemote, pathArg } from './paths.js';
import { killTagged, tagged } from './process-tag.js';
import { passwordSudo, sudoCommand } from './sudo.js';
import { putDir, type PutDirOptions, type PutDirResult } from './put-dir.js';
import type { Connection, TransferOptions, TransportExecOptions } from './types.js';

export interface ExecOptions {
  /** Data for the command's stdin. */
  stdin?: TransportExecOptions['stdin'];
  /** Output as it arrives, decoded as UTF-8, secrets masked. */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** Milliseconds before the command is killed and a CommandError (timedOut) is thrown. */
  timeout?: number;
  signal?: AbortSignal;
  /** Resolve with the result instead of throwing when the command fails. */
  nothrow?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: string | null;
  /** Exit code 0. */
  ok: boolean;
  durationMs: number;
}

/** What a Host reports as it works; the engine turns these into its event stream. */
export type HostEvent =
  | { type: 'command:start'; host: string; id: string; command: string }
  | { type: 'command:output'; host: string; id: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'command:end'; host: string; id: string; code: number | null; signal: string | null; durationMs: number };

export interface HostOptions {
  /** Password for sudo on hosts without NOPASSWD; never logged. */
  sudoPassword?: Secret | string;
  /** Default timeout for every command, in milliseconds. */
  defaultTimeout?: number;
  onEvent?: (event: HostEvent) => void;
}

interface HostContext {
  readonly cwd?: string;
  readonly env: Readonly<Record<string, EnvValue>>;
  readonly prefixes: readonly Command[];
  /** Set when commands run through sudo; `user` undefined means root. */
  readonly sudo?: { readonly user?: string };
}

interface HostShared {
  readonly connection: Connection;
  readonly sudoPassword?: Secret;
  readonly defaultTimeout?: number;
  readonly onEvent?: (event: HostEvent) => void;
}

/**
 * The API tasks use to work on one host: run commands (with cd/env/prefix
 * context, sudo or as another user) and move files. It is built on a
 * Connection's four methods, so it works the same over SSH, locally and in
 * a recording. Context helpers return a new Host and never change this one.
 */
export class Host {
  private readonly shared: HostShared;
  private readonly context: HostContext;

  constructor(connection: Connection, options: HostOptions = {}) {
    const password = options.sudoPassword;
    this.shared = {
      connection,
      ...(password === undefined ? {} : { sudoPassword: isSecret(password) ? password : secret(password, 'sudo password') }),
      ...(options.defaultTimeout === undefined ? {} : { defaultTimeout: options.defaultTimeout }),
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    };
    this.context = { env: {}, prefixes: [] };
  }

  get name(): string {
    return this.shared.connection.name;
  }

  get connection(): Connection {
    return this.shared.connection;
  }

  /** The current remote directory set by cd(), if any. */
  get cwd(): string | undefined {
    return this.context.cwd;
  }

  /** Runs commands in `dir` (relative to the current cd). */
  cd(dir: string): Host;
  cd<T>(dir: string, fn: (host: Host) => Promise<T>): Promise<T>;
  cd<T>(dir: string, fn?: (host: Host) => Promise<T>): Host | Promise<T> {
    return this.derive({ cwd: joinRemote(this.context.cwd, dir) }, fn);
  }

  /** Exports variables for the commands run through the returned Host. */
  env(vars: Record<string, EnvValue>): Host;
  env<T>(vars: Record<string, EnvValue>, fn: (host: Host) => Promise<T>): Promise<T>;
  env<T>(vars: Record<string, EnvValue>, fn?: (host: Host) => Promise<T>): Host | Promise<T> {
    Object.keys(vars).forEach(assertEnvName); // fail where the mistake is, not at the next exec
    return this.derive({ env: { ...this.context.env, ...vars } }, fn);
  }

  /** Runs `prefix && …` before every command, e.g. `source venv/bin/activate`. */
  prefix(command: CommandInput): Host;
  prefix<T>(command: CommandInput, fn: (host: Host) => Promise<T>): Promise<T>;
  prefix<T>(command: CommandInput, fn?: (host: Host) => Promise<T>): Host | Promise<T> {
    return this.derive({ prefixes: [...this.context.prefixes, toCommand(command)] }, fn);
  }

  /** Commands through the returned Host run as `user` via sudo. */
  as(user: string): Host;
  as<T>(user: string, fn: (host: Host) => Promise<T>): Promise<T>;
  as<T>(user: string, fn?: (host: Host) => Promise<T>): Host | Promise<T> {
    return this.derive({ sudo: { user } }, fn);
  }

  /** Runs one command as root via sudo. */
  sudo(command: CommandInput, options: ExecOptions = {}): Promise<ExecResult> {
    return (this.derive({ sudo: {} }) as Host).exec(command, options);
  }

  /**
   * Runs a command. A string is a script you wrote, passed as is; build
   * commands with interpolated values through cmd`…`, which quotes them.
   * Throws CommandError on a non-zero exit unless `nothrow` is set; a
   * timeout or abort always throws, after killing everything the command
   * started on the host.
   */
  exec(input: CommandInput, options: ExecOptions = {}): Promise<ExecResult> {
    return this.run(this.withContext(toCommand(input)), options, true);
  }

  private async run(inner: Command, options: ExecOptions, tracked: boolean): Promise<ExecResult> {
    const { connection } = this.shared;
    const onEvent = tracked ? this.shared.onEvent : undefined;
    const secrets = new Set(inner.secretValues());
    if (this.shared.sudoPassword) secrets.add(revealSecret(this.shared.sudoPassword));
    const mask = (text: string): string => (secrets.size ? maskSecretValues(text, secrets) : text);

    const id = randomUUID();
    const started = performance.now();
    const stdout = new OutputText(secrets, (text) => {
      options.onStdout?.(text);
      onEvent?.({ type: 'command:output', host: this.name, id, stream: 'stdout', text });
    });
    const stderr = new OutputText(secrets, (text) => {
      options.onStderr?.(text);
      onEvent?.({ type: 'command:output', host: this.name, id, stream: 'stderr', text });
    });

    // The Host owns the deadline, so time queued for a channel counts, and
    // a stop kills the command's whole process tree, not just its shell.
    const stop = new AbortController();
    const deadline = armDeadline(stop, options.signal, options.timeout ?? this.shared.defaultTimeout);
    let firstKill: Promise<void> | undefined;
    const sweeps = new AbortController(); // called off when the command turns out never to have started
    if (tracked) {
      const kill = () => (firstKill = this.killTree(id, sweeps.signal));
      if (stop.signal.aborted) kill();
      else stop.signal.addEventListener('abort', kill, { once: true });
    }

    const transportOptions: TransportExecOptions = {
      onStdout: stdout.push,
      onStderr: stderr.push,
      signal: stop.signal,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      ...(tracked ? {} : { urgent: true }), // untracked runs are kill sweeps
    };
    let command: Command;
    let finish = (): void => undefined;
    let rejected = (): boolean => false;
    const sudo = this.context.sudo;
    if (sudo && this.shared.sudoPassword) {
      const wrapped = passwordSudo(inner, sudo.user, this.shared.sudoPassword, transportOptions, id);
      command = wrapped.command;
      Object.assign(transportOptions, wrapped.options);
      finish = wrapped.flush;
      rejected = wrapped.rejected;
    } else if (sudo) {
      command = sudoCommand(inner, sudo.user, id);
    } else {
      command = tagged(id, inner);
    }

    const shown = command.display();
    onEvent?.({ type: 'command:start', host: this.name, id, command: shown });
    let raw;
    try {
      raw = await connection.exec(command, transportOptions);
    } finally {
      deadline.dispose();
    }
    finish();
    const stopped = raw.aborted || raw.timedOut || stop.signal.aborted;
    if (stopped && tracked && raw.started === false) {
      // Nothing to kill; a sweep still queued for a channel would only delay the error.
      sweeps.abort();
    } else if (stopped && tracked) {
      // Once more after the channel closed: the shell may have started a child between the first sweep and its death.
      await firstKill;
      await this.killTree(id);
    }
    const timedOut = deadline.timedOut() || raw.timedOut;
    const aborted = stopped && !timedOut;
    const result: ExecResult = {
      stdout: stdout.end(),
      stderr: stderr.end(),
      code: raw.code,
      signal: raw.signal,
      ok: raw.code === 0 && !stopped,
      durationMs: Math.round(performance.now() - started),
    };
    onEvent?.({ type: 'command:end', host: this.name, id, code: result.code, signal: result.signal, durationMs: result.durationMs });

    if (result.ok || (options.nothrow && !stopped)) return result;
    const hint = failureHint(result, { timedOut, aborted, passwordRejected: rejected(), sudo: Boolean(sudo) });
    throw new CommandError(
      this.name,
      { command: shown, code: result.code, signal: result.signal, stdout: mask(result.stdout), stderr: mask(result.stderr), timedOut, aborted },
      hint === undefined ? {} : { hint },
    );
  }

  /** Kills every process the command with this id started, as the same user (sudo included). Never throws. */
  private async killTree(id: string, signal?: AbortSignal): Promise<void> {
    const options: ExecOptions = { nothrow: true, timeout: KILL_TIMEOUT_MS, ...(signal === undefined ? {} : { signal }) };
    await this.run(killTagged(id), options, false).catch(() => undefined);
  }

  /** The contents of a remote text file. */
  async readFile(path: string, options: Pick<ExecOptions, 'signal' | 'timeout'> = {}): Promise<string> {
    return (await this.exec(cmd`cat -- ${pathArg(path)}`, options)).stdout;
  }

  /**
   * Writes a remote file atomically: a temporary file in the same directory,
   * then a rename, so readers never see half a file.
   */
  async writeFile(path: string, content: string | Buffer, options: { mode?: number } & Pick<ExecOptions, 'signal' | 'timeout'> = {}): Promise<void> {
    const target = pathArg(path);
    const temp = pathArg(`${path}.deployr-${randomUUID().slice(0, 8)}`);
    const mode = (options.mode ?? 0o644).toString(8);
    // umask 077 first: the temp file must not be readable by others before chmod narrows or widens it.
    const write = and(cmd`umask 077`, cmd`cat > ${temp}`, cmd`chmod ${mode} ${temp}`, cmd`mv -f ${temp} ${target}`);
    const { mode: _mode, ...execOptions } = options;
    try {
      await this.exec(write, { ...execOptions, stdin: content });
    } catch (error) {
      await this.exec(cmd`rm -f ${temp}`, { nothrow: true });
      throw error;
    }
  }

  async exists(path: string): Promise<boolean> {
    return (await this.exec(cmd`test -e ${pathArg(path)}`, { nothrow: true })).code === 0;
  }

  /** The full path of a program on the host's PATH, or null. */
  async which(program: string): Promise<string | null> {
    const result = await this.exec(cmd`command -v ${program}`, { nothrow: true });
    return result.code === 0 && result.stdout.trim() ? result.stdout.trim() : null;
  }

  async mkdirp(path: string): Promise<void> {
    await this.exec(cmd`mkdir -p -- ${pathArg(path)}`);
  }

  /**
   * Uploads one file over the host's own connection (SFTP on SSH), as the
   * login user: sudo()/as() do not apply. Relative paths follow cd().
   */
  put(localPath: string, remotePath: string, options?: TransferOptions): Promise<void> {
    return this.shared.connection.put(localPath, joinRemote(this.context.cwd, remotePath), options);
  }

  /** Downloads one file. Like put(), relative paths follow cd() and `~/` is the login user's home. */
  get(remotePath: string, localPath: string, options?: TransferOptions): Promise<void> {
    return this.shared.connection.get(joinRemote(this.context.cwd, remotePath), localPath, options);
  }

  /** Uploads a directory as one tar stream into `tar -x` on the host, keeping file modes. */
  putDir(localDir: string, remoteDir: string, options: PutDirOptions = {}): Promise<PutDirResult> {
    return putDir(this, localDir, remoteDir, options);
  }

  close(): Promise<void> {
    return this.shared.connection.close();
  }

  private withContext(command: Command): Command {
    const { cwd, env, prefixes } = this.context;
    if (cwd === undefined && prefixes.length === 0 && Object.keys(env).length === 0) return command;
    const steps = [...(cwd === undefined ? [] : [cmd`cd ${cdArg(cwd)}`]), ...prefixes.map(group), group(command)];
    return withEnv(env, and(...steps));
  }

  private derive<T>(change: Partial<HostContext>, fn?: (host: Host) => Promise<T>): Host | Promise<T> {
    const derived = Object.create(Host.prototype) as Host;
    Object.assign(derived, { shared: this.shared, context: { ...this.context, ...change } });
    return fn ? fn(derived) : derived;
  }
}

/**
 * Shell syntax that could run part of a script even when what precedes it
 * in an `&&` chain failed: `;`, newlines, `||`, a single `&`, a comment.
 * (Quoted text may match too; grouping it anyway is harmless.)
 */
const ESCAPES_AND_CHAIN = /;|\n|\|\||(^|[^&])&($|[^&])|(^|[\s;&|()])#/;

/**
 * `{ script; }` when the script could escape the `cd … &&` in front of it,
 * so a failed cd stops everything; plain otherwise, to keep logs readable.
 * A newline closes the group where `; }` would break the script: after a
 * comment, a trailing `&` or `;`, and in multi-line scripts (a trailing
 * newline, a here-document's closing delimiter).
 */
function group(command: Command): Command {
  const text = command.display();
  if (!ESCAPES_AND_CHAIN.test(text)) return command;
  const close = /(^|[\s;&|()])#|[&;]\s*$|\n/.test(text) ? '\n}' : '; }';
  return joinCommands('', [cmd`{ `, command, toCommand(close)]);
}

/** How long the sweep that kills a stopped command's processes may take. */
const KILL_TIMEOUT_MS = 10_000;

interface Deadline {
  timedOut(): boolean;
  dispose(): void;
}

/** Aborts `stop` when the caller's signal aborts or the timeout passes. */
function armDeadline(stop: AbortController, signal: AbortSignal | undefined, timeout: number | undefined): Deadline {
  let timedOut = false;
  const onAbort = (): void => stop.abort(signal?.reason);
  if (signal?.aborted) stop.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeout !== undefined && timeout > 0
      ? setTimeout(() => {
          timedOut = true;
          stop.abort();
        }, timeout)
      : undefined;
  return {
    timedOut: () => timedOut,
    dispose: () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

function failureHint(
  result: ExecResult,
  how: { timedOut: boolean; aborted: boolean; passwordRejected: boolean; sudo: boolean },
): string | undefined {
  if (how.timedOut) return 'the command did not finish in time: raise its timeout, or check what it waits for (a prompt, a lock, the network)';
  if (how.aborted) return undefined;
  if (how.passwordRejected) return 'sudo refused the password: check the sudoPassword setting for this host';
  if (how.sudo && /a password is required|a terminal is required/.test(result.stderr)) {
    return 'sudo wants a password here: set sudoPassword for this host, or allow the user NOPASSWD in sudoers';
  }
  if (result.code === 127) return 'a program was not found on the host: install it, or check PATH for non-interactive shells';
  return undefined;
}

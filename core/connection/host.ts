import { randomUUID } from 'node:crypto';
import {
  and,
  assertEnvName,
  cmd,
  isSecret,
  secret,
  toCommand,
  type CommandInput,
  type EnvValue,
  type Secret,
} from '../command/index.js';
import { inContext, type HostContext } from './context-command.js';
import { joinRemote, pathArg } from './paths.js';
import { putDir, type PutDirOptions, type PutDirResult } from './put-dir.js';
import { runCommand, type ExecOptions, type ExecResult, type HostEvent, type Runner } from './run-command.js';
import type { Connection, TransferOptions } from './types.js';

export type { ExecOptions, ExecResult, HostEvent } from './run-command.js';

export interface HostOptions {
  /** Password for sudo on hosts without NOPASSWD; never logged. */
  sudoPassword?: Secret | string;
  /** Default timeout for every command, in milliseconds. */
  defaultTimeout?: number;
  /** Stops every command of this Host (and Hosts derived from it) when aborted, on top of each command's own signal. */
  signal?: AbortSignal;
  onEvent?: (event: HostEvent) => void;
}

interface HostShared {
  readonly connection: Connection;
  readonly sudoPassword?: Secret;
  readonly defaultTimeout?: number;
  readonly signal?: AbortSignal;
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
      ...(options.signal === undefined ? {} : { signal: options.signal }),
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
    return runCommand(this.runner(), inContext(this.context, toCommand(input)), options);
  }

  /** The contents of a remote text file. */
  async readFile(path: string, options: Pick<ExecOptions, 'signal' | 'timeout'> = {}): Promise<string> {
    // quiet: a file's contents (an .env, a key) do not belong in logs and --json events.
    return (await this.exec(cmd`cat -- ${pathArg(path)}`, { ...options, quiet: true, readOnly: true })).stdout;
  }

  /**
   * Writes a remote file atomically: a temporary file in the same directory,
   * then a rename, so readers never see half a file. Without `mode`, an
   * existing file keeps its mode (a 0600 .env stays 0600) and a new one gets
   * 0644; with `mode`, the file gets exactly that.
   */
  async writeFile(path: string, content: string | Buffer, options: { mode?: number } & Pick<ExecOptions, 'signal' | 'timeout'> = {}): Promise<void> {
    // A relative path starting with a dash would read as an option to stat, chmod, mv and rm.
    const safePath = path.startsWith('-') ? `./${path}` : path;
    const target = pathArg(safePath);
    const temp = pathArg(`${safePath}.deployr-${randomUUID().slice(0, 8)}`);
    // Without a mode, the host decides it in the same command: the target's own mode when it exists
    // (-L: a symlink's target, whose mode readers see), else 644. GNU and BusyBox stat both print it with -c %a.
    // A target that exists but cannot be stat'ed stops the write (stat's error is the message), never widening it to 644.
    const steps =
      options.mode === undefined
        ? [cmd`mode=$(if test -e ${target}; then stat -L -c %a ${target}; else echo 644; fi)`, cmd`cat > ${temp}`, cmd`chmod "$mode" ${temp}`]
        : [cmd`cat > ${temp}`, cmd`chmod ${options.mode.toString(8)} ${temp}`];
    // umask 077 first: the temp file must not be readable by others before chmod narrows or widens it.
    const write = and(cmd`umask 077`, ...steps, cmd`mv -f ${temp} ${target}`);
    const { mode: _mode, ...execOptions } = options;
    try {
      await this.exec(write, { ...execOptions, stdin: content });
    } catch (error) {
      // Best effort and bounded (a lost connection or busy channels must not hold the error up),
      // and never instead of the error that matters: the write's own.
      await this.exec(cmd`rm -f ${temp}`, { nothrow: true, timeout: 5_000 }).catch(() => undefined);
      throw error;
    }
  }

  async exists(path: string): Promise<boolean> {
    return (await this.exec(cmd`test -e ${pathArg(path)}`, { nothrow: true, readOnly: true })).code === 0;
  }

  /** The full path of a program on the host's PATH, or null. */
  async which(program: string): Promise<string | null> {
    const result = await this.exec(cmd`command -v ${program}`, { nothrow: true, readOnly: true });
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

  private runner(): Runner {
    return { ...this.shared, name: this.name, ...(this.context.sudo ? { sudo: this.context.sudo } : {}) };
  }

  private derive<T>(change: Partial<HostContext>, fn?: (host: Host) => Promise<T>): Host | Promise<T> {
    const derived = Object.create(Host.prototype) as Host;
    Object.assign(derived, { shared: this.shared, context: { ...this.context, ...change } });
    return fn ? fn(derived) : derived;
  }
}


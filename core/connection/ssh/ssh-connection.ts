import { stat } from 'node:fs/promises';
import type ssh2 from 'ssh2';
import { isSecret, secret, type Command, type Secret } from '../../command/index.js';
import { ConnectionError, TransferError } from '../../errors.js';
import { Semaphore } from '../../util/semaphore.js';
import { OutputCollector, feedStdin, watchDeadline } from '../exec-collector.js';
import { notStarted, type Connection, type TransferOptions, type TransportExecOptions, type TransportExecResult } from '../types.js';
import type { SshConnector } from './connector.js';
import { SSH_DEFAULTS, type ResolvedSshSettings, type SshTarget } from './options.js';

type Client = ssh2.Client;
type SFTPWrapper = ssh2.SFTPWrapper;

/** An open SFTP session; close() ends it and gives its channel slot back. */
interface SftpSession {
  sftp: SFTPWrapper;
  close(): void;
}

/** ~3 s of backoff in all: enough for sshd to free slots, short enough to surface a real limit. */
const CHANNEL_OPEN_RETRIES = 16;

class ChannelOpenError extends Error {}

/**
 * How long a killed command gets to report its exit before its channel is
 * dropped, and then how long the server gets to confirm the close before the
 * command is given up on (a dead link never confirms anything).
 */
const KILL_GRACE_MS = 2000;

/**
 * One SSH connection to one host, shared by every command and transfer on
 * it: commands are channels multiplexed over it, capped below the server's
 * MaxSessions and queued beyond that. Connects on first use.
 */
export class SshConnection implements Connection {
  readonly kind = 'ssh' as const;
  readonly name: string;
  private ready?: Promise<Client>;
  private client?: Client;
  private settings?: ResolvedSshSettings;
  private channels: Semaphore;
  private sftpSession?: Promise<SftpSession>;
  /** Why nothing more can run here: the connection was lost, or close() was called. */
  private lost?: ConnectionError;
  private closed?: Promise<void>;

  constructor(
    private readonly target: SshTarget,
    private readonly connector: SshConnector,
  ) {
    this.name = target.name;
    this.channels = new Semaphore(target.ssh?.maxChannels ?? SSH_DEFAULTS.maxChannels);
  }

  /** Connects and authenticates now instead of on first use. */
  async connect(): Promise<void> {
    await this.clientReady();
  }

  /**
   * The resolved user@host:port and settings, once connected. Credentials are
   * kept out (this view gets logged and printed): the private key is left
   * out, and a password or passphrase shows only as a secret ('***').
   */
  get resolved(): ResolvedSshSettings | undefined {
    if (!this.settings) return undefined;
    const { password, passphrase, privateKey: _privateKey, ...rest } = this.settings;
    return {
      ...rest,
      ...(password === undefined ? {} : { password: concealed(password, 'SSH password') }),
      ...(passphrase === undefined ? {} : { passphrase: concealed(passphrase, 'key passphrase') }),
    };
  }

  private clientReady(): Promise<Client> {
    if (this.lost) return Promise.reject(this.lost);
    if (!this.ready) {
      this.ready = this.connector.establish(this.target).then(({ client, settings }) => {
        this.client = client;
        this.settings = settings;
        client.on('close', () => {
          // After close(), `lost` already says the connection was closed on purpose.
          this.lost ??= new ConnectionError(`${this.name}: the SSH connection to ${settings.hostname}:${settings.port} was lost`, {
            host: this.name,
            hint: 'the host may have rebooted, sshd restarted, or the network dropped; run again when it is reachable',
          });
        });
        return client;
      });
      // A failed connect may be retried by a later call.
      this.ready.catch(() => {
        this.ready = undefined;
      });
    }
    return this.ready;
  }

  async exec(command: Command, options: TransportExecOptions = {}): Promise<TransportExecResult> {
    if (options.signal?.aborted) return notStarted();
    // A stop while the connection is still being made ends this command at once; the connect
    // carries on in the background for later commands.
    const client = await untilAborted(this.clientReady(), options.signal);
    if (!client) return notStarted();
    let release: () => void;
    try {
      release = await this.channels.acquire(options.signal, options.urgent);
    } catch (error) {
      if (options.signal?.aborted) return notStarted(); // stopped while queued for a channel
      throw error;
    }
    try {
      return await this.run(client, command, options);
    } finally {
      release();
    }
  }

  /**
   * Opens an exec channel and runs the command on it. sshd frees a session
   * slot a moment after the client sees the previous channel close, so an
   * open can briefly fail with "open failed" even under the cap: retry with
   * backoff before giving up.
   */
  private async run(client: Client, command: Command, options: TransportExecOptions): Promise<TransportExecResult> {
    const line = command.render();
    for (let attempt = 0; ; attempt += 1) {
      if (this.lost) throw this.lost;
      try {
        return await this.runOnce(client, line, options);
      } catch (error) {
        if (!(error instanceof ChannelOpenError)) throw error;
        if (this.lost) throw this.lost;
        if (options.signal?.aborted) return notStarted(); // stopped while retrying: the command never ran
        const transient = /open failed/i.test(error.message);
        if (!transient || attempt >= CHANNEL_OPEN_RETRIES) {
          throw new ConnectionError(`${this.name}: the host refused to open a command channel: ${error.message}`, {
            host: this.name,
            hint: 'the host may limit sessions per connection (MaxSessions in sshd_config); lower ssh.maxChannels',
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(5 * 2 ** attempt, 250)));
      }
    }
  }

  private runOnce(client: Client, line: string, options: TransportExecOptions): Promise<TransportExecResult> {
    if (options.signal?.aborted) return Promise.resolve(notStarted());
    return new Promise((resolve, reject) => {
      const output = new OutputCollector(options);
      // Stopped before the channel opened (on a dead link it never will): give up on it now. Whether
      // the command started is unknown, so the caller still sweeps; a channel that opens late is killed.
      let gaveUp = false;
      const giveUp = (): void => {
        gaveUp = true;
        resolve({ ...output.result(), code: null, signal: null, timedOut: false, aborted: true });
      };
      options.signal?.addEventListener('abort', giveUp, { once: true });
      const opened = (error: Error | undefined, stream: ssh2.ClientChannel): void => {
        options.signal?.removeEventListener('abort', giveUp);
        if (gaveUp) {
          if (!error) {
            stream.on('error', () => undefined);
            sendSignal(stream, 'KILL');
            stream.close();
          }
          return;
        }
        if (error) return reject(new ChannelOpenError(error.message));
        // Listeners go on synchronously: exit status and close can arrive in the same packet batch as the open confirmation.
        let exit: { code: number | null; signal: string | null } | undefined;
        let settled = false;
        const finish = (): void => {
          if (settled) return;
          settled = true;
          deadline.dispose();
          const { timedOut, aborted } = deadline.state;
          if (!exit && !timedOut && !aborted) {
            // A channel that closes without an exit status means the connection went away under it.
            return reject(
              this.lost ??
                new ConnectionError(`${this.name}: the command's channel closed without an exit status (connection lost?)`, {
                  host: this.name,
                  hint: 'check the host is still up, then run again',
                }),
            );
          }
          resolve({ ...output.result(), code: exit?.code ?? null, signal: exit?.signal ?? null, timedOut, aborted });
        };
        const deadline = watchDeadline(options, () => {
          // Ask sshd to kill the command (OpenSSH honours signal requests); closing the
          // channel at once would leave the command running, so wait before dropping it.
          sendSignal(stream, 'KILL');
          setTimeout(() => {
            stream.close();
            // A silent dead link confirms neither the exit nor the close: report the stop anyway.
            setTimeout(finish, KILL_GRACE_MS).unref();
          }, KILL_GRACE_MS).unref();
        });
        stream.on('data', output.stdout);
        stream.stderr.on('data', output.stderr);
        stream.on('exit', (code: number | null, signal?: string) => {
          exit = { code: code ?? null, signal: signal ?? null };
        });
        stream.on('error', () => undefined);
        stream.on('close', finish);
        // A failing stdin stream stops the command like an abort: it is not a lost connection.
        feedStdin(options.stdin, stream, deadline.abort);
      };
      try {
        client.exec(line, opened);
      } catch (error) {
        // ssh2 throws "Not connected" once the socket is gone, before our 'close' handler has run.
        options.signal?.removeEventListener('abort', giveUp);
        reject(
          this.lost ??
            new ConnectionError(`${this.name}: the SSH connection is gone (${(error as Error).message})`, {
              host: this.name,
              hint: 'check the host is still up, then run again',
              cause: error,
            }),
        );
      }
    });
  }

  /**
   * SFTP over this same connection: no second handshake. The one session is
   * kept outside the command channels' cap (maxChannels 8 leaves room for it
   * under OpenSSH's MaxSessions 10), so transfers can never starve commands
   * or wait behind them. When it closes or fails, the next transfer opens a
   * new one.
   */
  private sftp(): Promise<SftpSession> {
    if (!this.sftpSession) {
      const pending: Promise<SftpSession> = (async () => {
        const client = await this.clientReady();
        const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
          client.sftp((error, session) => (error ? reject(error) : resolve(session)));
        });
        const ended = (): void => {
          if (this.sftpSession === pending) this.sftpSession = undefined;
        };
        // 'error' is a fatal SFTP protocol error (ssh2 closes the channel after it); unheard it would crash the process.
        sftp.on('error', ended);
        sftp.on('close', ended);
        return {
          sftp,
          close: () => {
            ended();
            sftp.end();
          },
        };
      })();
      this.sftpSession = pending;
      pending.catch(() => {
        if (this.sftpSession === pending) this.sftpSession = undefined;
      });
    }
    return this.sftpSession;
  }

  async put(localPath: string, remotePath: string, options: TransferOptions = {}): Promise<void> {
    const source = await stat(localPath).catch(() => undefined);
    if (!source?.isFile()) {
      throw new TransferError(`Cannot upload ${localPath} to ${this.name}: no such file on this machine`, {
        host: this.name,
        hint: 'check the local path',
      });
    }
    const target = this.sftpPath(remotePath);
    await this.transfer('upload', localPath, remotePath, options.signal, (sftp, done) =>
      sftp.fastPut(
        localPath,
        target,
        {
          mode: options.mode ?? source.mode & 0o7777,
          step: (transferred: number, _chunk: number, total: number) => options.onProgress?.(transferred, total),
        },
        done,
      ),
    );
  }

  async get(remotePath: string, localPath: string, options: TransferOptions = {}): Promise<void> {
    const source = this.sftpPath(remotePath);
    await this.transfer('download', remotePath, localPath, options.signal, (sftp, done) =>
      sftp.fastGet(
        source,
        localPath,
        {
          ...(options.mode === undefined ? {} : { mode: options.mode }),
          step: (transferred: number, _chunk: number, total: number) => options.onProgress?.(transferred, total),
        },
        done,
      ),
    );
  }

  /**
   * Runs one SFTP transfer. An abort rejects at once and closes the session:
   * ssh2's fastPut/fastGet cannot be cancelled one by one, so other transfers
   * in flight on this connection fail with it; the next one opens a new session.
   */
  private async transfer(
    what: 'upload' | 'download',
    from: string,
    to: string,
    signal: AbortSignal | undefined,
    start: (sftp: SFTPWrapper, done: (error?: Error | null) => void) => void,
  ): Promise<void> {
    const aborted = (): TransferError =>
      new TransferError(`${this.name}: ${what} of ${from} → ${to} was aborted`, { host: this.name, cause: signal?.reason });
    if (signal?.aborted) throw aborted();
    const session = await untilAborted(this.sftpOrError(what, from, to), signal);
    if (!session) throw aborted();
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        session.close();
        reject(aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      start(session.sftp, (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (error) reject(this.transferError(what, from, to, error));
        else resolve();
      });
    });
  }

  /** SFTP resolves relative paths against the login user's home, so `~/x` is `x`; `~user` it cannot expand. */
  private sftpPath(path: string): string {
    if (path === '~' || path === '~/') return '.';
    if (path.startsWith('~/')) return path.slice(2);
    if (path.startsWith('~')) {
      throw new TransferError(`${this.name}: cannot transfer ${path}: SFTP does not expand ~user paths`, {
        host: this.name,
        hint: 'use an absolute path',
      });
    }
    return path;
  }

  private async sftpOrError(what: string, from: string, to: string): Promise<SftpSession> {
    try {
      return await this.sftp();
    } catch (error) {
      if (error instanceof ConnectionError) throw error;
      throw new TransferError(`${this.name}: cannot ${what} ${from} → ${to}: the SFTP subsystem is not available (${(error as Error).message})`, {
        host: this.name,
        hint: 'enable "Subsystem sftp" in the host\'s sshd_config, or use putDir, which needs only tar',
        cause: error,
      });
    }
  }

  private transferError(what: string, from: string, to: string, error: Error & { code?: number | string }): TransferError {
    const missing = error.code === 2 || /no such file/i.test(error.message);
    const denied = error.code === 3 || /permission denied/i.test(error.message);
    return new TransferError(`${this.name}: cannot ${what} ${from} → ${to}: ${error.message}`, {
      host: this.name,
      hint: missing
        ? what === 'upload'
          ? 'the remote directory does not exist: create it first (host.mkdirp)'
          : 'the remote file does not exist: check the path'
        : denied
          ? `the SSH user lacks permission there: upload somewhere writable, then move it with sudo`
          : 'run again with --verbose',
      cause: error,
    });
  }

  /**
   * Closes the connection for good: later calls fail with a ConnectionError
   * that says so (nothing reconnects), and commands still running fail with it
   * too. Calling it again returns the first call's promise.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    const wasLost = this.lost !== undefined;
    this.lost ??= new ConnectionError(`${this.name}: the SSH connection was closed by deployr (close() was called); nothing more runs on it`, {
      host: this.name,
      hint: 'the connection was closed while work on the host was under way or still to come: close it only once all of that is done',
    });
    this.connector.forget(this);
    const client = this.client ?? (await this.ready?.catch(() => undefined));
    if (!client || wasLost) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      client.end();
    });
  }
}

/** `promise`, or undefined as soon as `signal` aborts; the promise carries on and its outcome is then ignored. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A credential as a secret, so it prints as '***'. */
function concealed(value: string | Secret, label: string): Secret {
  return isSecret(value) ? value : secret(value, label);
}

/**
 * ssh2's Channel.signal() is a no-op once stdin was ended, yet the protocol
 * allows channel requests after EOF, and most commands get EOF at once.
 * So send the request through the channel's protocol object directly.
 */
function sendSignal(stream: ssh2.ClientChannel, name: string): void {
  const channel = stream as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal(id: number, name: string): void } };
  };
  const state = channel.outgoing?.state;
  if (channel.outgoing && (state === 'open' || state === 'eof')) {
    try {
      channel._client?._protocol?.signal(channel.outgoing.id, name);
    } catch {
      // connection already gone: the command dies with it
    }
  }
}

import { stat } from 'node:fs/promises';
import type ssh2 from 'ssh2';
import type { Command } from '../../command/index.js';
import { ConnectionError, TransferError } from '../../errors.js';
import { Semaphore } from '../../util/semaphore.js';
import { OutputCollector, feedStdin, watchDeadline } from '../exec-collector.js';
import { notStarted, type Connection, type TransferOptions, type TransportExecOptions, type TransportExecResult } from '../types.js';
import type { SshConnector } from './connector.js';
import { SSH_DEFAULTS, type ResolvedSshSettings, type SshTarget } from './options.js';

type Client = ssh2.Client;
type SFTPWrapper = ssh2.SFTPWrapper;

/** ~3 s of backoff in all: enough for sshd to free slots, short enough to surface a real limit. */
const CHANNEL_OPEN_RETRIES = 16;

class ChannelOpenError extends Error {}

/** How long a killed command gets to report its exit before its channel is dropped. */
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
  private sftpSession?: Promise<SFTPWrapper>;
  private lost?: ConnectionError;
  private closing = false;

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

  /** The resolved user@host:port, once connected. */
  get resolved(): ResolvedSshSettings | undefined {
    return this.settings;
  }

  private clientReady(): Promise<Client> {
    if (this.lost) return Promise.reject(this.lost);
    if (!this.ready) {
      this.ready = this.connector.establish(this.target).then(({ client, settings }) => {
        this.client = client;
        this.settings = settings;
        client.on('close', () => {
          if (!this.closing) {
            this.lost = new ConnectionError(`${this.name}: the SSH connection to ${settings.hostname}:${settings.port} was lost`, {
              host: this.name,
              hint: 'the host may have rebooted, sshd restarted, or the network dropped; run again when it is reachable',
            });
          }
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
    const client = await this.clientReady();
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
        const transient = /open failed/i.test(error.message);
        if (!transient || attempt >= CHANNEL_OPEN_RETRIES || options.signal?.aborted) {
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
    return new Promise((resolve, reject) => {
      client.exec(line, (error, stream) => {
        if (error) return reject(new ChannelOpenError(error.message));
        // Listeners go on synchronously: exit status and close can arrive in the same packet batch as the open confirmation.
        const output = new OutputCollector(options);
        let exit: { code: number | null; signal: string | null } | undefined;
        const deadline = watchDeadline(options, () => {
          // Ask sshd to kill the command (OpenSSH honours signal requests); closing the
          // channel at once would leave the command running, so wait before dropping it.
          sendSignal(stream, 'KILL');
          setTimeout(() => stream.close(), KILL_GRACE_MS).unref();
        });
        stream.on('data', output.stdout);
        stream.stderr.on('data', output.stderr);
        stream.on('exit', (code: number | null, signal?: string) => {
          exit = { code: code ?? null, signal: signal ?? null };
        });
        stream.on('error', () => undefined);
        stream.on('close', () => {
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
        });
        feedStdin(options.stdin, stream, () => stream.close());
      });
    });
  }

  /** SFTP over this same connection: no second handshake. Holds one channel slot while open. */
  private sftp(): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      this.sftpSession = (async () => {
        const client = await this.clientReady();
        await this.channels.acquire(); // released when the connection closes
        return new Promise<SFTPWrapper>((resolve, reject) => {
          client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp)));
        });
      })();
      this.sftpSession.catch(() => {
        this.sftpSession = undefined;
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
    const sftp = await this.sftpOrError('upload', localPath, remotePath);
    const target = this.sftpPath(remotePath);
    await new Promise<void>((resolve, reject) => {
      sftp.fastPut(
        localPath,
        target,
        {
          mode: options.mode ?? source.mode & 0o7777,
          step: (transferred: number, _chunk: number, total: number) => options.onProgress?.(transferred, total),
        },
        (error) => (error ? reject(this.transferError('upload', localPath, remotePath, error)) : resolve()),
      );
    });
  }

  async get(remotePath: string, localPath: string, options: TransferOptions = {}): Promise<void> {
    const sftp = await this.sftpOrError('download', remotePath, localPath);
    const source = this.sftpPath(remotePath);
    await new Promise<void>((resolve, reject) => {
      sftp.fastGet(
        source,
        localPath,
        {
          ...(options.mode === undefined ? {} : { mode: options.mode }),
          step: (transferred: number, _chunk: number, total: number) => options.onProgress?.(transferred, total),
        },
        (error) => (error ? reject(this.transferError('download', remotePath, localPath, error)) : resolve()),
      );
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

  private async sftpOrError(what: string, from: string, to: string): Promise<SFTPWrapper> {
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

  async close(): Promise<void> {
    this.closing = true;
    this.connector.forget(this);
    const client = this.client ?? (await this.ready?.catch(() => undefined));
    if (!client || this.lost) return;
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

import { spawn } from 'node:child_process';
import { copyFile, chmod, stat } from 'node:fs/promises';
import type { Command } from '../command/index.js';
import { ConnectionError, TransferError } from '../errors.js';
import { OutputCollector, feedStdin, watchDeadline } from './exec-collector.js';
import { notStarted, type Connection, type TransferOptions, type TransportExecOptions, type TransportExecResult } from './types.js';
import { homedir } from 'node:os';

export interface LocalConnectionOptions {
  /** Name shown in logs and errors. Default 'local'. */
  name?: string;
  /** Working directory for commands. Default: the process's. */
  cwd?: string;
  /** Grace period between SIGTERM and SIGKILL when a command is stopped. */
  killGraceMs?: number;
}

/**
 * Runs commands on this machine with /bin/sh, with the same API as SSH, so a
 * `connect: 'local'` environment and the tests of Host behave like a remote.
 */
export class LocalConnection implements Connection {
  readonly kind = 'local' as const;
  readonly name: string;
  private readonly cwd: string | undefined;
  private readonly killGraceMs: number;

  constructor(options: LocalConnectionOptions = {}) {
    this.name = options.name ?? 'local';
    this.cwd = options.cwd;
    this.killGraceMs = options.killGraceMs ?? 2000;
  }

  exec(command: Command, options: TransportExecOptions = {}): Promise<TransportExecResult> {
    if (options.signal?.aborted) return Promise.resolve(notStarted());
    return new Promise((resolve, reject) => {
      // detached: the command gets its own process group, so a timeout kills
      // the whole pipeline, not just the sh in front of it.
      const child = spawn('/bin/sh', ['-c', command.render()], {
        cwd: this.cwd,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const output = new OutputCollector(options);
      const killGroup = (signal: NodeJS.Signals): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      const deadline = watchDeadline(options, () => {
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), this.killGraceMs).unref();
      });
      child.stdout.on('data', output.stdout);
      child.stderr.on('data', output.stderr);
      // A command that exits without reading its stdin closes the pipe: not an error.
      child.stdin.on('error', () => undefined);
      // A failing stdin stream stops the command: an early EOF would pass truncated input off as whole.
      feedStdin(options.stdin, child.stdin, deadline.abort);
      child.on('error', (error) => {
        deadline.dispose();
        reject(new ConnectionError(`Could not start /bin/sh on ${this.name}: ${error.message}`, { host: this.name, cause: error }));
      });
      child.on('close', (code, signal) => {
        deadline.dispose();
        resolve({ ...output.result(), code, signal, ...deadline.state });
      });
    });
  }

  async put(localPath: string, remotePath: string, options: TransferOptions = {}): Promise<void> {
    await this.copy(localPath, expandHome(remotePath), options, 'upload');
  }

  async get(remotePath: string, localPath: string, options: TransferOptions = {}): Promise<void> {
    await this.copy(expandHome(remotePath), localPath, options, 'download');
  }

  async close(): Promise<void> {
    // Nothing to release: every command is its own process.
  }

  private async copy(from: string, to: string, options: TransferOptions, what: string): Promise<void> {
    try {
      options.signal?.throwIfAborted();
      const source = await stat(from);
      await copyFile(from, to);
      await chmod(to, options.mode ?? source.mode & 0o7777);
      options.onProgress?.(source.size, source.size);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message;
      throw new TransferError(`Could not ${what} ${from} → ${to} on ${this.name}: ${reason}`, {
        host: this.name,
        hint: 'check that the source exists and the destination directory exists (host.mkdirp)',
        cause: error,
      });
    }
  }
}

/** `~/x` means the home directory here too, as it does over SSH. */
function expandHome(path: string): string {
  if (path === '~') return homedir();
  return path.startsWith('~/') ? `${homedir()}/${path.slice(2)}` : path;
}

import type { Readable } from 'node:stream';
import type { Command } from '../command/index.js';

/** What a transport needs to run one command. */
export interface TransportExecOptions {
  /** Data for the command's stdin; the stream is ended when it ends. */
  stdin?: string | Buffer | Readable;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Kill the command after this many milliseconds. */
  timeout?: number;
  signal?: AbortSignal;
  /** false: only stream output to the callbacks; the result's stdout/stderr stay empty. Default true. */
  capture?: boolean;
  /** Jump the queue for a channel: for the sweeps that stop other commands, which must not wait behind them. */
  urgent?: boolean;
  /** The command only reads: under --dry-run it still runs, so tasks can show what would change. */
  readOnly?: boolean;
}

/** A finished command. Transports never throw for a non-zero exit; the Host decides. */
export interface TransportExecResult {
  stdout: Buffer;
  stderr: Buffer;
  /** Exit code; null when the command was killed by a signal or never reported one. */
  code: number | null;
  /** Signal name as Node spells it, e.g. 'SIGTERM'. */
  signal: string | null;
  timedOut: boolean;
  aborted: boolean;
  /** false when the command never started (stopped before or while queued for a channel). */
  started?: boolean;
}

export interface TransferOptions {
  /** File mode for the destination, e.g. 0o644. Defaults to the source's mode. */
  mode?: number;
  onProgress?: (transferred: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * The small interface every transport implements: SSH (ssh2), local
 * (child_process) and recording (unit tests, --dry-run). Everything else —
 * sudo, cd/env/prefix, files as text, directory upload — is built on these
 * four methods by `Host`, so it behaves the same on every transport.
 */
export interface Connection {
  /** Host name used in errors and logs. */
  readonly name: string;
  readonly kind: 'ssh' | 'local' | 'recording' | 'predicting';
  /**
   * Runs a command with `sh`-compatible syntax. Throws ConnectionError when
   * the transport fails (connection lost, channel refused); a command that
   * ran and failed resolves with its code.
   */
  exec(command: Command, options?: TransportExecOptions): Promise<TransportExecResult>;
  /** Copies a local file to the host. */
  put(localPath: string, remotePath: string, options?: TransferOptions): Promise<void>;
  /** Copies a file from the host to this machine. */
  get(remotePath: string, localPath: string, options?: TransferOptions): Promise<void>;
  close(): Promise<void>;
}

/** The result of a command stopped before it started (aborted while queued). */
export function notStarted(): TransportExecResult {
  return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code: null, signal: null, timedOut: false, aborted: true, started: false };
}

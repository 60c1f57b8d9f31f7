import type { Readable } from 'node:stream';
import type { TransportExecOptions } from './types.js';

/**
 * Collects a command's output while forwarding chunks to the caller's
 * callbacks. Shared by every transport so they buffer identically. With
 * `capture: false` it only forwards (the Host keeps its own decoded copy).
 */
export class OutputCollector {
  private readonly stdoutChunks: Buffer[] = [];
  private readonly stderrChunks: Buffer[] = [];

  constructor(private readonly options: TransportExecOptions) {}

  stdout = (chunk: Buffer): void => {
    if (this.options.capture !== false) this.stdoutChunks.push(chunk);
    this.options.onStdout?.(chunk);
  };

  stderr = (chunk: Buffer): void => {
    if (this.options.capture !== false) this.stderrChunks.push(chunk);
    this.options.onStderr?.(chunk);
  };

  result(): { stdout: Buffer; stderr: Buffer } {
    return { stdout: Buffer.concat(this.stdoutChunks), stderr: Buffer.concat(this.stderrChunks) };
  }
}

/**
 * Writes the caller's stdin (string, buffer or stream) into a command's stdin
 * and ends it. When the stream fails, `onError` must stop the command: ending
 * its stdin instead would hand it truncated input as if it were whole.
 */
export function feedStdin(
  stdin: TransportExecOptions['stdin'],
  target: NodeJS.WritableStream,
  onError: (error: Error) => void,
): void {
  if (stdin === undefined) {
    target.end();
    return;
  }
  if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) {
    target.end(stdin);
    return;
  }
  const source = stdin as Readable;
  source.on('error', onError);
  source.pipe(target);
}

/**
 * Arms the timeout and abort signal of one command; `kill` is called at most
 * once. Returns the flags, `abort()` to stop the command for another reason
 * (its stdin failed), and a disposer to call when the command ends.
 */
export function watchDeadline(
  options: TransportExecOptions,
  kill: () => void,
): { state: { timedOut: boolean; aborted: boolean }; abort: () => void; dispose: () => void } {
  const state = { timedOut: false, aborted: false };
  let killed = false;
  const killOnce = (): void => {
    if (killed) return; // once the command ended (disposed), too: there is nothing left to kill
    killed = true;
    kill();
  };
  const timer =
    options.timeout !== undefined && options.timeout > 0
      ? setTimeout(() => {
          state.timedOut = true;
          killOnce();
        }, options.timeout)
      : undefined;
  const onAbort = (): void => {
    state.aborted = true;
    killOnce();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    state,
    abort: onAbort,
    dispose: () => {
      killed = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    },
  };
}

import { randomUUID } from 'node:crypto';
import { maskSecretValues, revealSecret, type Command, type Secret } from '../command/index.js';
import { CommandError, type CommandErrorDetails } from '../errors.js';
import { OutputText } from './output-text.js';
import { killTagged, tagged } from './process-tag.js';
import { passwordSudo, sudoCommand } from './sudo.js';
import type { Connection, TransportExecOptions, TransportExecResult } from './types.js';

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
  /** Raise no `command:output` events (start and end still are), for output that is data, e.g. a file's contents. */
  quiet?: boolean;
  /**
   * The command changes nothing (cat, test, stat, a query): under --dry-run
   * it runs for real, so a task can compare what is there with what it
   * would write and show the difference. Every other command is only shown.
   */
  readOnly?: boolean;
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

/** What running a command needs from its Host. */
export interface Runner {
  readonly connection: Connection;
  readonly name: string;
  readonly sudoPassword?: Secret;
  readonly defaultTimeout?: number;
  /** Stops every command run through this runner, on top of each command's own signal (a run's Ctrl-C, a task's timeout). */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: HostEvent) => void;
  /** Set when the command runs through sudo; `user` undefined means root. */
  readonly sudo?: { readonly user?: string };
}

/**
 * Runs one command (already placed in its cd/env/prefix context) on the
 * runner's connection: wraps it for sudo, tags it, streams masked output,
 * enforces the deadline, kills its process tree when stopped, and turns a
 * failure into a CommandError. `tracked` is false only for the kill sweeps
 * themselves, which raise no events and start no sweeps of their own.
 */
export async function runCommand(runner: Runner, inner: Command, options: ExecOptions, tracked = true): Promise<ExecResult> {
  const { connection, name } = runner;
  const onEvent = tracked ? runner.onEvent : undefined;
  const onOutput = options.quiet ? undefined : onEvent;
  const secrets = new Set(inner.secretValues());
  if (runner.sudoPassword) secrets.add(revealSecret(runner.sudoPassword));
  const mask = (text: string): string => (secrets.size ? maskSecretValues(text, secrets) : text);

  const id = randomUUID();
  const started = performance.now();
  const stdout = new OutputText(secrets, (text) => {
    options.onStdout?.(text);
    onOutput?.({ type: 'command:output', host: name, id, stream: 'stdout', text });
  });
  const stderr = new OutputText(secrets, (text) => {
    options.onStderr?.(text);
    onOutput?.({ type: 'command:output', host: name, id, stream: 'stderr', text });
  });

  // The Host owns the deadline, so time queued for a channel counts, and
  // a stop kills the command's whole process tree, not just its shell.
  const stop = new AbortController();
  const deadline = armDeadline(stop, combineSignals(options.signal, runner.signal), options.timeout ?? runner.defaultTimeout);
  let running = true;
  // A stdin stream that fails (putDir meeting a file it cannot read) stops the command: the rest of its
  // input will never come. Listen from the start: the stream can fail while the command still waits
  // for its connection or a channel, and an 'error' nobody listens to would crash the process.
  let stdinError: Error | undefined;
  const stdin = options.stdin;
  if (stdin !== undefined && typeof stdin !== 'string' && !Buffer.isBuffer(stdin)) {
    stdin.on('error', (error: Error) => {
      if (!running || stop.signal.aborted) return; // too late, or stopped already for another reason
      stdinError = error;
      stop.abort(error);
    });
  }
  let firstKill: Promise<void> | undefined;
  // Called off when the command turns out never to have started, and after KILL_TIMEOUT_MS: all the
  // sweeps of one command share that limit, so even on a dead connection its error comes within it.
  const sweeps = new AbortController();
  let sweepLimit: ReturnType<typeof setTimeout> | undefined;
  if (tracked) {
    const kill = () => {
      sweepLimit = setTimeout(() => sweeps.abort(), KILL_TIMEOUT_MS);
      firstKill = killTree(runner, id, sweeps.signal);
    };
    if (stop.signal.aborted) kill();
    else stop.signal.addEventListener('abort', kill, { once: true });
  }

  const transportOptions: TransportExecOptions = {
    onStdout: stdout.push,
    onStderr: stderr.push,
    capture: false, // OutputText keeps the text; a second raw copy would double the memory of big outputs
    signal: stop.signal,
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
    ...(tracked ? {} : { urgent: true }), // untracked runs are kill sweeps
    ...(options.readOnly ? { readOnly: true } : {}),
  };
  let command: Command;
  let finish = (): void => undefined;
  let rejected = (): boolean => false;
  const sudo = runner.sudo;
  if (sudo && runner.sudoPassword) {
    const wrapped = passwordSudo(inner, sudo.user, runner.sudoPassword, transportOptions, id);
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
  onEvent?.({ type: 'command:start', host: name, id, command: shown });
  let raw: TransportExecResult | undefined;
  try {
    raw = await connection.exec(command, transportOptions);
  } finally {
    deadline.dispose();
    running = false;
    if (raw === undefined) {
      // The transport threw (connection lost or closed): no sweep can get through either, and
      // whoever saw the start must still see the end.
      sweeps.abort();
      clearTimeout(sweepLimit);
      onEvent?.({ type: 'command:end', host: name, id, code: null, signal: null, durationMs: Math.round(performance.now() - started) });
    }
  }
  finish();
  const stopped = raw.aborted || raw.timedOut || stop.signal.aborted;
  if (stopped && tracked && raw.started === false) {
    // Nothing to kill; a sweep still queued for a channel would only delay the error.
    sweeps.abort();
  } else if (stopped && tracked) {
    // Once more after the channel closed: the shell may have started a child between the first sweep and its death.
    await firstKill;
    await killTree(runner, id, sweeps.signal);
  }
  clearTimeout(sweepLimit);
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
  onEvent?.({ type: 'command:end', host: name, id, code: result.code, signal: result.signal, durationMs: result.durationMs });

  const details = { command: shown, code: result.code, signal: result.signal, stdout: mask(result.stdout), stderr: mask(result.stderr) };
  if (stdinError) throw stdinFailure(name, details, stdinError, mask);
  if (result.ok || (options.nothrow && !stopped)) return result;
  const hint = failureHint(result, { timedOut, aborted, passwordRejected: rejected(), sudo: Boolean(sudo) });
  throw new CommandError(name, { ...details, timedOut, aborted }, hint === undefined ? {} : { hint });
}

/** The command's stdin stream failed on this machine, so it was stopped; the stream's error is the cause. */
function stdinFailure(host: string, details: CommandErrorDetails, error: Error, mask: (text: string) => string): CommandError {
  return new CommandError(
    host,
    { ...details, aborted: true, stoppedBecause: `reading its stdin on this machine failed: ${mask(error.message)}` },
    { hint: "the data for the command's stdin could not be read on this machine: see the cause, fix it, then run again", cause: error },
  );
}

/** Kills every process the command with this id started, as the same user (sudo included). Never throws. */
async function killTree(runner: Runner, id: string, signal: AbortSignal): Promise<void> {
  // Not under the runner's own signal: that is usually what stopped the command, and the sweep must still run.
  const { signal: _stopped, ...unstopped } = runner;
  await runCommand(unstopped, killTagged(id), { nothrow: true, signal }, false).catch(() => undefined);
}

/** How long the sweeps that kill a stopped command's processes may take, all of them together. */
const KILL_TIMEOUT_MS = 5_000;

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

function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

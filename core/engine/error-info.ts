import { CommandError, ConnectionError, DeployrError, InterruptedError, PluginError } from '../errors.js';
import type { ErrorInfo } from './events.js';

const STDERR_TAIL_LINES = 8;

/** Follows `cause` links to the first error of the given class. */
export function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (current instanceof type) return current;
  }
  return undefined;
}

/**
 * An error as plain data for events, views and --json. The command, exit
 * code and stderr come from the CommandError behind it even when a plugin
 * error wraps it. Messages are already masked: CommandError masks its own,
 * and secrets never enter other messages.
 */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (!(error instanceof Error)) return { name: 'Error', code: 'ERROR', message: String(error) };
  const info: ErrorInfo = {
    name: error.name,
    code: error instanceof DeployrError ? error.code : 'ERROR',
    message: error.message,
  };
  if (error instanceof DeployrError && error.hint !== undefined) info.hint = error.hint;
  const plugin = findCause(error, PluginError);
  if (plugin) {
    info.plugin = plugin.plugin;
    info.hook = plugin.hook;
  }
  const command = findCause(error, CommandError);
  if (command) {
    info.command = command.command;
    info.exitCode = command.exitCode;
    info.signal = command.signal;
    const stderrTail = command.stderr.replace(/\s+$/, '').split('\n').slice(-STDERR_TAIL_LINES).join('\n');
    if (stderrTail) info.stderrTail = stderrTail;
  }
  return info;
}

/** Whether a failure means a host could not be reached or trusted (exit code 3). */
export function isConnectionFailure(error: unknown): boolean {
  return findCause(error, ConnectionError) !== undefined && findCause(error, CommandError) === undefined;
}

export function isInterruption(error: unknown): boolean {
  return findCause(error, InterruptedError) !== undefined;
}

import { dirname } from 'node:path';
import type { ErrorInfo, HostFailure } from '../engine/events.js';
import { firstLine, plural } from './format.js';

export interface SummaryOptions {
  /** Where each host's full log is (LogFiles.pathFor); '' asks for the run-level log. */
  logPathFor?: (host: string) => string | undefined;
  /** Last stderr lines shown per failure. Default 12. */
  stderrLines?: number;
  /** Hosts named in one group's heading before `and N more`. Default 5. */
  hostsNamed?: number;
}

/**
 * The failure summary printed (to stderr) after a failed run: per failure,
 * the host, the task, the command with how it ended, the last stderr lines,
 * the plugin and hook for a plugin failure, the hint, and the log file.
 *
 * Hosts that failed the same way (same task, command, exit, stderr and
 * message once the host's own name is taken out) are reported once, so a
 * command failing on 80 hosts reads as one entry naming them, not 80
 * copies. Returns '' when there is nothing to report.
 */
export function formatFailureSummary(failures: readonly HostFailure[], options: SummaryOptions = {}): string {
  if (failures.length === 0) return '';
  const groups = new Map<string, HostFailure[]>();
  for (const failure of failures) {
    const key = sameFailureKey(failure);
    const group = groups.get(key);
    if (group) group.push(failure);
    else groups.set(key, [failure]);
  }
  const hostCount = new Set(failures.map((f) => f.host).filter((host) => host !== '')).size;
  const runFailed = failures.some((f) => f.host === '');
  const heading = hostCount === 0 ? 'The run failed:' : `${plural(hostCount, 'host')} failed${runFailed ? ', and the run itself' : ''}:`;
  const blocks = [...groups.values()].map((group) => describeGroup(group, options));
  return `${heading}\n\n${blocks.join('\n\n')}\n`;
}

function describeGroup(group: HostFailure[], options: SummaryOptions): string {
  const { error, task } = group[0]!;
  const named = options.hostsNamed ?? 5;
  const hosts = group.map((f) => f.host || '(run)');
  const who = hosts.slice(0, named).join(', ') + (hosts.length > named ? ` and ${hosts.length - named} more` : '');
  const where = task
    ? `task "${task}"`
    : CONNECT_CODES.has(error.code)
      ? 'connecting'
      : error.hook
        ? hookLabel(error.hook)
        : 'before any task';
  const lines = [`✖ ${who} — ${where}`];
  const detail = (line: string) => lines.push(`  ${line}`);

  const message = error.message.replace(/\s+$/, '').split('\n');
  // A command error's later lines repeat the stderr tail shown below.
  for (const line of error.command ? message.slice(0, 1) : message) detail(line);
  if (error.plugin) detail(`plugin: ${error.plugin}${error.hook ? `, in ${hookLabel(error.hook)}` : ''}`);
  if (error.command !== undefined) detail(`$ ${error.command.split('\n').join('\n    ')}`);
  const ended = howItEnded(error);
  if (ended) detail(ended);
  const stderr = stderrTail(error, options.stderrLines ?? 12);
  if (stderr.length > 0) {
    detail('stderr:');
    for (const line of stderr) detail(`│ ${line}`);
  }
  if (error.hint) detail(`→ ${error.hint}`);
  const logs = group.map((f) => options.logPathFor?.(f.host)).filter((p): p is string => p !== undefined);
  if (logs.length === 1) detail(`log: ${logs[0]}`);
  else if (logs.length > 1) {
    detail(`logs: ${logs.slice(0, 3).join(', ')}${logs.length > 3 ? ` and ${logs.length - 3} more in ${dirname(logs[0]!)}` : ''}`);
  }
  return lines.join('\n');
}

const CONNECT_CODES = new Set(['CONNECTION_ERROR', 'HOST_KEY_ERROR']);

/** PluginError.hook is a hook name or `task "name"` for a plugin's task. */
function hookLabel(hook: string): string {
  return hook.startsWith('task ') ? hook : `hook "${hook}"`;
}

/** `exit code 128`, `killed by SIGKILL`, `timed out`: only for command failures and timeouts. */
function howItEnded(error: ErrorInfo): string | undefined {
  const timedOut = error.code === 'TASK_TIMEOUT' || /\btimed out\b/.test(firstLine(error.message));
  if (timedOut) return error.signal ? `timed out (stopped with ${error.signal})` : 'timed out';
  if (error.command === undefined) return undefined;
  if (error.signal) return `killed by ${error.signal}`;
  if (typeof error.exitCode === 'number') return `exit code ${error.exitCode}`;
  return 'no exit status (the connection was lost or the command was stopped)';
}

function stderrTail(error: ErrorInfo, max: number): string[] {
  if (!error.stderrTail) return [];
  const lines = error.stderrTail.replace(/\s+$/, '').split('\n');
  return lines.slice(-max);
}

/** Failures that differ only by the host they happened on share this key. */
function sameFailureKey({ host, task, error }: HostFailure): string {
  const anonymous = (text: string | undefined) => (text && host ? text.split(host).join('\0') : text);
  return JSON.stringify([
    task,
    error.name,
    error.code,
    anonymous(error.message),
    error.hint,
    error.plugin,
    error.hook,
    anonymous(error.command),
    error.exitCode,
    error.signal,
    anonymous(error.stderrTail),
  ]);
}

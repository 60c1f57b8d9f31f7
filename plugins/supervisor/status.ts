/** One line of `supervisorctl status`: `web  RUNNING   pid 123, uptime 0:00:05`. */
export interface ProcessStatus {
  /** `web`, or `web:web_00` when the program runs several processes. */
  readonly name: string;
  readonly state: string;
  readonly description: string;
}

/** States a start ends in when the program does not stay up. */
export const FAILED_STATES = new Set(['BACKOFF', 'FATAL', 'EXITED', 'STOPPED', 'STOPPING', 'UNKNOWN']);

export function parseStatus(stdout: string): ProcessStatus[] {
  return stdout.split('\n').flatMap((line) => {
    const match = /^(\S+)\s+([A-Z]+)(?:\s+(.*))?$/.exec(line.trimEnd());
    // `web: ERROR (no such group)` is not a process.
    if (!match || match[2] === 'ERROR' || (match[1] as string).endsWith(':')) return [];
    return [{ name: match[1] as string, state: match[2] as string, description: (match[3] ?? '').trim() }];
  });
}

/** supervisord does not know the program (its file was never loaded): `web: ERROR (no such group)`. */
export function isUnknownProgram(output: string): boolean {
  return /ERROR \(no such (group|process)\)/.test(output);
}

export type StartVerdict = { kind: 'running' } | { kind: 'pending' } | { kind: 'failed'; process: ProcessStatus };

/** Where a start stands: every process RUNNING, one failed, or still on its way. */
export function verdict(processes: readonly ProcessStatus[], expected: number): StartVerdict {
  const failed = processes.find((p) => FAILED_STATES.has(p.state));
  if (failed) return { kind: 'failed', process: failed };
  if (processes.length >= expected && processes.every((p) => p.state === 'RUNNING')) return { kind: 'running' };
  // STARTING, or not listed yet (`update` adds the group a moment before its processes show).
  return { kind: 'pending' };
}

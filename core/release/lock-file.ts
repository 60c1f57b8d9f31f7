import { hostname } from 'node:os';
import type { LockHolder } from '../errors.js';
import { whoAmI } from './manifest.js';

/** The holder record this process writes into the lock file. */
export function lockHolderFor(run: { runId: string; task: string; environment: string }): LockHolder {
  const { user } = whoAmI();
  return { user, machine: hostname(), pid: process.pid, since: new Date().toISOString(), runId: run.runId, task: run.task, environment: run.environment };
}

export function parseLockHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.runId !== 'string' || typeof value.user !== 'string') return undefined;
    return value as LockHolder;
  } catch {
    return undefined;
  }
}

/** "alice@laptop (pid 4242), since 2026-11-21T11:43:23Z, running deploy (run 2026…)". */
export function describeHolder(holder: LockHolder | 'unreadable' | undefined): string {
  if (holder === undefined || holder === 'unreadable') return 'an unknown holder (the lock file is not readable as a deployr lock)';
  return `${holder.user}@${holder.machine} (pid ${holder.pid}), since ${holder.since}, running "${holder.task}" (run ${holder.runId})`;
}

import type { Logger } from '../engine/context.js';

/** What an idempotent step found or did: a second identical run reports only `unchanged`. */
export type ChangeStatus = 'created' | 'updated' | 'removed' | 'installed' | 'unchanged';

const WOULD: Record<Exclude<ChangeStatus, 'unchanged'>, string> = { created: 'create', updated: 'update', removed: 'remove', installed: 'install' };

export interface ChangeReport {
  /** What was checked: a file's path, `package supervisor`, `user app`. */
  readonly what: string;
  readonly status: ChangeStatus;
  /** True under --dry-run: the change was only predicted. */
  readonly predicted: boolean;
  /** A unified diff, when the change is a text file's and its content is not secret. */
  readonly diff?: string;
}

/**
 * Logs one change the way every first-party plugin does, so people and
 * --json readers see the same thing everywhere: `what: unchanged`,
 * `what: updated` (with the diff under it), or `would update what` under
 * --dry-run. The report travels in the event's `data.change`.
 */
export function reportChange(log: Logger, report: ChangeReport): void {
  const { what, status, predicted, diff } = report;
  const headline = status === 'unchanged' ? `${what}: unchanged` : predicted ? `would ${WOULD[status]} ${what}` : `${what}: ${status}`;
  const message = diff && (predicted || status !== 'unchanged') ? `${headline}\n${diff.trimEnd()}` : headline;
  log.info(message, { change: { what, status, predicted, ...(diff ? { diff } : {}) } });
}

import { randomBytes } from 'node:crypto';

/**
 * A run's id: UTC time to the millisecond plus 4 random hex digits, e.g.
 * `20261121T114323123Z-9f3a`. Sorts by time as text, is safe as a file
 * name, and is the same for every host of a run.
 */
export function createRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export const RUN_ID_PATTERN = /^\d{8}T\d{9}Z-[0-9a-f]{4}$/;

/** Small text helpers shared by the views, so every view words durations and errors alike. */

/** `850ms`, `1.2s`, `2m 05s`: short enough for a progress line, exact enough to compare runs. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** The headline of a message: error messages carry detail (stderr tails) on later lines. */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return (end === -1 ? text : text.slice(0, end)).trimEnd();
}

export { plural } from '../util/quantities.js';

/** How a finished command ended, in words: `exit 0`, `killed by SIGTERM`, `no exit status`. */
export function describeExit(code: number | null, signal: string | null): string {
  if (signal) return `killed by ${signal}`;
  if (code !== null) return `exit ${code}`;
  // ssh2 closes a channel without a status when the connection drops (see NOTES-deps.md).
  return 'no exit status';
}

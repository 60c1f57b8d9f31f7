import { describeHolder } from './lock-file.js';
import { findDrift, type HostStatus } from './status.js';

/** The table `deployr status` prints, plus drift, file changes and locks below it. */
export function formatStatus(environment: string, statuses: readonly HostStatus[]): string {
  const rows = statuses.map((status) => [
    status.host,
    status.current ?? (status.currentTarget ? `→ ${status.currentTarget}` : status.deployed ? '(none)' : '(not deployed)'),
    String(status.releases.filter((release) => release.complete).length),
    status.commit ? `${status.commit.slice(0, 12)}${status.ref ? ` (${status.ref})` : ''}` : '-',
    status.lock ? 'locked' : '-',
  ]);
  const header = ['HOST', 'CURRENT', 'RELEASES', 'COMMIT', 'LOCK'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd();
  const out = [`${environment}: ${statuses.length} host${statuses.length === 1 ? '' : 's'}`, line(header), ...rows.map(line)];

  const { expected, drifted } = findDrift(statuses);
  if (drifted.length > 0) {
    out.push('', `drift: ${drifted.join(', ')} ${drifted.length === 1 ? 'is' : 'are'} not on ${expected ?? 'the same release'} like the other hosts`);
  }
  for (const status of statuses) {
    const modified = status.modified;
    if (modified && modified.changed.length + modified.missing.length > 0) {
      const parts = [
        modified.changed.length > 0 ? `changed ${list(modified.changed)}` : '',
        modified.missing.length > 0 ? `missing ${list(modified.missing)}` : '',
      ].filter(Boolean);
      out.push(`drift: ${status.host}'s current release was modified on the host since it was deployed: ${parts.join('; ')}`);
    }
    const incomplete = status.releases.filter((release) => !release.complete);
    if (incomplete.length > 0) out.push(`${status.host}: ${incomplete.length} unfinished release(s) (${incomplete.map((r) => r.id).join(', ')}), removed by the next deploy`);
    if (status.lock) out.push(`lock on ${status.host}: ${describeHolder(status.lock)}`);
  }
  if (statuses.every((status) => !status.lock)) out.push('', 'lock: free');
  for (const status of statuses) {
    if (status.releases.length > 0) out.push(`${status.host} releases: ${status.releases.map((r) => (r.id === status.current ? `${r.id} (current)` : r.complete ? r.id : `${r.id} (unfinished)`)).join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

function list(paths: readonly string[]): string {
  return paths.length <= 5 ? paths.join(', ') : `${paths.slice(0, 5).join(', ')} and ${paths.length - 5} more`;
}

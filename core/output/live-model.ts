import type { DeployrEvent } from '../engine/events.js';
import { columns, printable, truncateColumns } from './columns.js';
import { firstLine, formatDuration, plural } from './format.js';

export type HostPhase = 'waiting' | 'connecting' | 'running' | 'idle' | 'failed' | 'done' | 'interrupted';

export interface HostState {
  readonly name: string;
  /** Position in the run's host list, and of the host's row. */
  readonly index: number;
  phase: HostPhase;
  /** Tasks running now, innermost last. */
  readonly tasks: string[];
  /** The last task that ended on this host, with how it ended. */
  last?: string;
  /** The last output chunk with visible text; cut down to a line only when drawn. */
  tail?: string;
  /** What failed, one line. */
  failure?: string;
}

interface RunInfo {
  task: string;
  environment: string;
  dryRun: boolean;
}

/**
 * What the live view knows about each host, updated per event in O(1) and
 * turned into row text only when a frame is drawn: 10k output events
 * between two frames cost 10k assignments, not 10k formatted rows.
 */
export class LiveModel {
  readonly hosts: HostState[];
  /** Hosts whose row text may have changed since the last takeChanged(). */
  private changed = new Set<HostState>();
  private readonly byName: Map<string, HostState>;
  /** Activity of hosts outside the run's list (`local` tasks), shown in the run row. */
  private other: { host: string; task?: string; tail?: string } | undefined;
  /** Set by run:end. */
  private result: { durationMs: number } | undefined;

  constructor(
    private readonly run: RunInfo,
    names: readonly string[],
  ) {
    this.hosts = names.map((name, index) => ({ name, index, phase: 'waiting', tasks: [] }));
    this.byName = new Map(this.hosts.map((h) => [h.name, h]));
    for (const host of this.hosts) this.changed.add(host);
  }

  get finished(): boolean {
    return this.result !== undefined;
  }

  /**
   * Applies an event.
   * @returns the host when this event made it fail (its row is final then).
   */
  apply(event: DeployrEvent): HostState | undefined {
    if (event.type === 'run:end') {
      this.end(event);
      return undefined;
    }
    if (!('host' in event) || event.host === undefined) return undefined;
    const host = this.byName.get(event.host);
    if (!host) {
      this.trackOther(event);
      return undefined;
    }
    if (host.phase === 'failed') return undefined; // its row is final
    switch (event.type) {
      case 'host:connect:start':
        host.phase = 'connecting';
        break;
      case 'host:connect:end':
        if (event.error) return this.fail(host, `connect: ${firstLine(event.error.message)}`);
        host.phase = host.tasks.length > 0 ? 'running' : 'idle';
        break;
      case 'task:start':
        host.tasks.push(event.task);
        host.phase = 'running';
        host.tail = undefined;
        break;
      case 'task:end': {
        const at = host.tasks.lastIndexOf(event.task);
        if (at !== -1) host.tasks.splice(at, 1);
        if (event.status === 'failed') {
          return this.fail(host, `${event.task}: ${event.error ? firstLine(event.error.message) : 'failed'}`);
        }
        host.last = event.status === 'ok' ? `${event.task} done` : `${event.task} skipped`;
        if (host.tasks.length === 0) host.phase = 'idle';
        break;
      }
      case 'command:start':
        host.tail = `$ ${firstLine(event.command)}`;
        break;
      case 'command:output':
        if (/\S/.test(event.text)) host.tail = event.text;
        break;
      default:
        return undefined; // logs and warnings are printed above the rows, not in them
    }
    this.changed.add(host);
    return undefined;
  }

  /** Hosts to redraw, forgotten. */
  takeChanged(): HostState[] {
    const out = [...this.changed];
    this.changed.clear();
    return out;
  }

  markChanged(host: HostState): void {
    this.changed.add(host);
  }

  markAllChanged(): void {
    for (const host of this.hosts) this.changed.add(host);
  }

  /** A host's row, at most `width` columns (colours are the caller's). */
  hostRow(host: HostState, nameWidth: number, width: number): { text: string; dim: string } {
    const name = host.name.padEnd(nameWidth);
    let detail: string;
    let dim = '';
    switch (host.phase) {
      case 'waiting':
        detail = 'waiting';
        break;
      case 'connecting':
        detail = 'connecting…';
        break;
      case 'running':
        detail = host.tasks.join(' › ');
        dim = host.tail === undefined ? '' : lastVisibleLine(host.tail);
        break;
      case 'idle':
        detail = host.last ?? 'connected';
        break;
      case 'done':
        detail = host.last === undefined ? 'nothing to do' : 'done';
        break;
      case 'interrupted':
        detail = 'interrupted';
        break;
      case 'failed':
        detail = host.failure ?? 'failed';
        break;
    }
    const text = truncateColumns(printable(`${name}  ${detail}`), width);
    const room = width - columns(text) - 2;
    return { text, dim: dim && room >= 8 ? truncateColumns(dim, room) : '' };
  }

  /** The run row: counts while running, the result at the end. */
  runRow(hidden: number, width: number): string {
    const { task, environment, dryRun } = this.run;
    const counts = { running: 0, done: 0, waiting: 0, failed: 0, interrupted: 0 };
    for (const host of this.hosts) {
      if (host.phase === 'connecting' || host.phase === 'running') counts.running++;
      else if (host.phase === 'done' || (host.phase === 'idle' && host.last !== undefined)) counts.done++;
      else if (host.phase === 'idle') counts.waiting++; // connected, no task yet
      else counts[host.phase]++;
    }
    const parts = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([what, n]) => `${n} ${what}`);
    let text = `${task} → ${environment}${dryRun ? ' (dry run)' : ''}: ${plural(this.hosts.length, 'host')}`;
    if (parts.length > 0) text += ` · ${parts.join(', ')}`;
    if (this.result) text += ` · ${formatDuration(this.result.durationMs)}`;
    else {
      if (hidden > 0) text += ` · ${hidden} not shown`;
      if (this.other) {
        const now = [this.other.task, this.other.tail === undefined ? undefined : lastVisibleLine(this.other.tail)];
        text += ` · ${this.other.host}: ${now.filter(Boolean).join(' › ')}`;
      }
    }
    return truncateColumns(printable(text), width);
  }

  private fail(host: HostState, failure: string): HostState {
    host.phase = 'failed';
    host.failure = failure;
    host.tasks.length = 0;
    this.changed.add(host);
    return host;
  }

  private end(event: Extract<DeployrEvent, { type: 'run:end' }>): void {
    this.result = { durationMs: event.durationMs };
    this.other = undefined;
    const failures = new Map(event.failures.map((f) => [f.host, f]));
    for (const host of this.hosts) {
      const failure = failures.get(host.name);
      if (failure && host.phase !== 'failed') {
        this.fail(host, `${failure.task ? `${failure.task}: ` : ''}${firstLine(failure.error.message)}`);
      } else if (host.phase === 'connecting' || host.phase === 'running' || (event.interrupted && host.phase === 'waiting')) {
        host.phase = 'interrupted';
      } else if (host.phase === 'idle' || host.phase === 'waiting') {
        host.phase = 'done'; // a host no task applied to (roles, once) is done too
      }
      this.changed.add(host);
    }
  }

  private trackOther(event: DeployrEvent): void {
    const host = 'host' in event ? (event.host ?? '') : '';
    if (event.type === 'task:start') this.other = { host, task: event.task };
    else if (event.type === 'task:end') this.other = undefined;
    else if (this.other && event.type === 'command:start') this.other.tail = `$ ${firstLine(event.command)}`;
    else if (this.other && event.type === 'command:output' && /\S/.test(event.text)) this.other.tail = event.text;
  }
}

/**
 * The last line of a chunk that has visible text, as a terminal would show it
 * (after the last carriage return), without escape sequences or control
 * characters: command output must not move the cursor inside our frame.
 */
export function lastVisibleLine(chunk: string): string {
  // A row shows ~100 columns: the end of a huge chunk is enough.
  const lines = (chunk.length > 4096 ? chunk.slice(-4096) : chunk).split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const shown = lines[i]!.slice(lines[i]!.lastIndexOf('\r') + 1);
    const clean = printable(shown).trim();
    if (clean) return clean;
  }
  return '';
}

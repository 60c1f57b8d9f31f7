import { Writable } from 'node:stream';
import type { DeployrEvent, DeployrEventBody, ErrorInfo, HostFailure } from '../../core/engine/events.js';

export const RUN_ID = '20260301T120000000Z-a1b2';

type Body<T extends DeployrEventBody['type']> = Omit<Extract<DeployrEventBody, { type: T }>, 'type'>;

/**
 * Builds synthetic event streams: each event gets the next time (10 ms
 * apart) and the run id, as EventBus would stamp them.
 */
export class Events {
  private clock = Date.parse('2026-03-01T12:00:00.000Z');

  constructor(readonly runId = RUN_ID) {}

  event<T extends DeployrEventBody['type']>(type: T, body: Body<T>): DeployrEvent {
    this.clock += 10;
    // The generic spread is not narrowed to one union member; type and body match by construction.
    return { ...body, type, time: new Date(this.clock).toISOString(), runId: this.runId } as unknown as DeployrEvent;
  }

  runStart(hosts: readonly string[], options: Partial<Body<'run:start'>> = {}): DeployrEvent {
    return this.event('run:start', {
      task: 'deploy',
      environment: 'prod',
      hosts: hosts.map((name) => ({ name, address: `deploy@${name}.example:22`, roles: ['web'] })),
      dryRun: false,
      concurrency: 5,
      ...options,
    });
  }

  runEnd(failures: HostFailure[] = [], options: Partial<Body<'run:end'>> = {}): DeployrEvent {
    const ok = failures.length === 0;
    return this.event('run:end', { ok, interrupted: false, durationMs: 4100, failures, exitCode: ok ? 0 : 1, ...options });
  }

  connect(host: string, error?: ErrorInfo): DeployrEvent[] {
    return [
      this.event('host:connect:start', { host }),
      this.event('host:connect:end', { host, durationMs: 120, ...(error ? { error } : {}) }),
    ];
  }

  /** task:start, what `inner` returns, task:end. */
  task(host: string, task: string, inner: () => DeployrEvent[] = () => [], end: Partial<Body<'task:end'>> = {}): DeployrEvent[] {
    return [
      this.event('task:start', { host, task }),
      ...inner(),
      this.event('task:end', { host, task, status: 'ok', durationMs: 1200, ...end }),
    ];
  }

  /** command:start, one command:output per chunk, command:end. */
  command(host: string, id: string, command: string, chunks: Array<string | ['stderr', string]> = [], code: number | null = 0): DeployrEvent[] {
    return [
      this.event('command:start', { host, id, command }),
      ...chunks.map((chunk) =>
        typeof chunk === 'string'
          ? this.event('command:output', { host, id, stream: 'stdout', text: chunk })
          : this.event('command:output', { host, id, stream: chunk[0], text: chunk[1] }),
      ),
      this.event('command:end', { host, id, code, signal: null, durationMs: 250 }),
    ];
  }
}

export function commandError(host: string, overrides: Partial<ErrorInfo> = {}): ErrorInfo {
  return {
    name: 'CommandError',
    code: 'COMMAND_ERROR',
    message: `Command failed with exit code 128 on ${host}: git fetch origin\n  │ fatal: could not read from remote repository.`,
    command: 'git fetch origin',
    exitCode: 128,
    signal: null,
    stderrTail: 'remote: Repository not found.\nfatal: could not read from remote repository.',
    ...overrides,
  };
}

/** Collects what is written, as text. */
export class Sink extends Writable {
  chunks: string[] = [];
  bytes = 0;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    const text = chunk.toString();
    this.chunks.push(text);
    this.bytes += Buffer.byteLength(text);
    callback();
  }

  get text(): string {
    return this.chunks.join('');
  }

  get lines(): string[] {
    return this.text.split('\n').slice(0, -1);
  }
}

/** A terminal as listr2 and log-update see it. */
export class FakeTty extends Sink {
  isTTY = true;
  columns = 100;
  rows = 40;
}

/** Removes colours and cursor movement, for comparing frames. */
export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '');
}

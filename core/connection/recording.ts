import type { Command } from '../command/index.js';
import type { Connection, TransferOptions, TransportExecOptions, TransportExecResult } from './types.js';

/** One call the recording connection saw. Commands are kept masked: recordings get logged and printed. */
export type RecordedCall =
  | { type: 'exec'; command: string; stdin: boolean }
  | { type: 'put'; from: string; to: string; mode?: number }
  | { type: 'get'; from: string; to: string }
  | { type: 'close' };

export interface ScriptedResult {
  stdout?: string;
  stderr?: string;
  code?: number;
}

type Matcher = string | RegExp | ((command: string) => boolean);

/**
 * Connects to nothing and records what would run: for unit tests of command
 * builders and for --dry-run. Answers exec with code 0 and no output unless a
 * response was scripted with `respond()`.
 */
export class RecordingConnection implements Connection {
  readonly kind = 'recording' as const;
  readonly calls: RecordedCall[] = [];
  private readonly responses: Array<{ matcher: Matcher; result: ScriptedResult }> = [];

  constructor(readonly name: string = 'recording') {}

  /** The first matching response wins; matching is against the masked command. */
  respond(matcher: Matcher, result: ScriptedResult): this {
    this.responses.push({ matcher, result });
    return this;
  }

  /** The masked command lines run so far, in order. */
  get commands(): string[] {
    return this.calls.flatMap((call) => (call.type === 'exec' ? [call.command] : []));
  }

  async exec(command: Command, options: TransportExecOptions = {}): Promise<TransportExecResult> {
    const shown = command.display();
    this.calls.push({ type: 'exec', command: shown, stdin: options.stdin !== undefined });
    if (options.stdin && typeof options.stdin === 'object' && 'resume' in options.stdin) {
      options.stdin.resume(); // drain it, as a real command would
    }
    const scripted = this.responses.find(({ matcher }) => matches(matcher, shown))?.result ?? {};
    const stdout = Buffer.from(scripted.stdout ?? '');
    const stderr = Buffer.from(scripted.stderr ?? '');
    if (stdout.length) options.onStdout?.(stdout);
    if (stderr.length) options.onStderr?.(stderr);
    return { stdout, stderr, code: scripted.code ?? 0, signal: null, timedOut: false, aborted: false };
  }

  async put(from: string, to: string, options: TransferOptions = {}): Promise<void> {
    this.calls.push(options.mode === undefined ? { type: 'put', from, to } : { type: 'put', from, to, mode: options.mode });
  }

  async get(from: string, to: string): Promise<void> {
    this.calls.push({ type: 'get', from, to });
  }

  async close(): Promise<void> {
    this.calls.push({ type: 'close' });
  }
}

function matches(matcher: Matcher, command: string): boolean {
  if (typeof matcher === 'string') return command.includes(matcher);
  if (matcher instanceof RegExp) return matcher.test(command);
  return matcher(command);
}

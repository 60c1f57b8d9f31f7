import type { DeployrEvent, ErrorInfo, HostSummary } from '../engine/events.js';
import { describeExit, formatDuration, plural } from './format.js';
import { LineSplitter } from './line-splitter.js';

/** Lines for one log file: `host` is '' for run.log. */
export interface LogEntry {
  host: string;
  text: string;
}

/**
 * What the per-host log files say, whatever the view's verbosity: every
 * event, with its ISO time on every line, full command output (stdout
 * `out|`, stderr `err|`, tagged with the command id because parallel
 * commands on one host interleave), exit codes, timings and debug logs.
 * Host events go to the host's file, the rest to run.log.
 */
export class LogLineFormatter {
  private readonly splitter = new LineSplitter();
  private hosts: readonly HostSummary[] = [];
  private addresses = new Map<string, string>();

  /** The entries an event adds; run:start and run:end write to several files. */
  format(event: DeployrEvent): LogEntry[] {
    const t = event.time;
    switch (event.type) {
      case 'run:start': {
        this.hosts = event.hosts;
        this.addresses = new Map(event.hosts.map((h) => [h.name, h.address]));
        const what = `run ${event.runId}: ${event.task} → ${event.environment}${event.dryRun ? ' (dry run)' : ''}`;
        return [
          ...at(t, '', [
            `${what}, ${plural(event.hosts.length, 'host')}, concurrency ${event.concurrency}`,
            ...event.hosts.map((h) => `  host ${describeHost(h)}`),
          ]),
          ...event.hosts.flatMap((h) => at(t, h.name, [`${what}, host ${describeHost(h)}`])),
        ];
      }
      case 'run:end': {
        const outcome = event.interrupted ? 'interrupted' : event.ok ? 'finished' : 'failed';
        const failed = new Set(event.failures.map((f) => f.host));
        const tails = this.splitter.flushAll().flatMap(([key, rest]) => at(t, key.slice(0, key.indexOf('\0')), [tailLine(key, rest)]));
        return [
          ...tails,
          ...at(t, '', [
            `${event.ok ? '✔' : '✖'} run ${outcome} in ${formatDuration(event.durationMs)}, exit code ${event.exitCode}`,
            ...event.failures.flatMap((f) => indent(errorLines(f.error), `  ${f.host || '(run)'}${context(f.task)}: `)),
          ]),
          ...this.hosts.flatMap((h) =>
            at(t, h.name, [`run ${outcome} (exit code ${event.exitCode}); this host ${failed.has(h.name) ? 'failed' : 'did not fail'}`]),
          ),
        ];
      }
      case 'host:connect:start':
        return at(t, event.host, [`connecting to ${this.addresses.get(event.host) ?? event.host}`]);
      case 'host:connect:end':
        if (!event.error) return at(t, event.host, [`connected in ${formatDuration(event.durationMs)}`]);
        return at(t, event.host, indent(errorLines(event.error), `✖ connect failed after ${formatDuration(event.durationMs)}: `));
      case 'task:start':
        return at(t, event.host, [`▶ ${event.task}`]);
      case 'task:end': {
        const took = formatDuration(event.durationMs);
        if (event.status === 'ok') return at(t, event.host, [`✔ ${event.task} (${took})`]);
        if (event.status === 'skipped') return at(t, event.host, [`– ${event.task} skipped`]);
        const head = `✖ ${event.task} failed after ${took}`;
        return at(t, event.host, event.error ? indent(errorLines(event.error), `${head}: `) : [head]);
      }
      case 'command:start':
        return at(t, event.host, event.command.split('\n').map((line, i) => `[${event.id}] ${i === 0 ? '$' : '>'} ${line}`));
      case 'command:output': {
        const lines = this.splitter.push(`${event.host}\0${event.id}\0${event.stream}`, event.text);
        const head = `[${event.id}] ${event.stream === 'stderr' ? 'err' : 'out'}| `;
        for (let i = 0; i < lines.length; i++) lines[i] = head + lines[i];
        return at(t, event.host, lines);
      }
      case 'command:end': {
        const tails = this.splitter.flushAll(`${event.host}\0${event.id}\0`).map(([key, rest]) => tailLine(key, rest));
        const end = `[${event.id}] ${describeExit(event.code, event.signal)} (${formatDuration(event.durationMs)})`;
        return at(t, event.host, [...tails, end]);
      }
      case 'log':
        return at(t, event.host ?? '', prefixEach(event.message, `${event.level}${context(event.task)}: `));
      case 'warning':
        return at(t, event.host ?? '', prefixEach(event.message, `warning${context(event.task)}: `));
      case 'error':
        return at(t, event.host ?? '', indent(errorLines(event.error), `error${context(event.task)}: `));
    }
  }
}

/** One entry stamping every line with the event's time; none for no lines. */
function at(time: string, host: string, lines: string[]): LogEntry[] {
  if (lines.length === 0) return [];
  let text = '';
  for (const line of lines) text += `${time} ${line}\n`;
  return [{ host, text }];
}

/** ` [task]` after a log's level, when the event names its task. */
function context(task: string | undefined): string {
  return task ? ` [${task}]` : '';
}

function describeHost(host: HostSummary): string {
  return `${host.name} ${host.address}${host.roles.length > 0 ? ` roles ${host.roles.join(',')}` : ''}`;
}

/** `[id] out| text` / `[id] err| text` for an unfinished line, from its splitter key `host\0id\0stream`. */
function tailLine(key: string, line: string): string {
  const [, id, stream] = key.split('\0');
  return `[${id}] ${stream === 'stderr' ? 'err' : 'out'}| ${line}`;
}

/** An error in full: class, code, message, hint, plugin and hook; the stderr tail is in the message. */
export function errorLines(error: ErrorInfo): string[] {
  const lines = `${error.name} [${error.code}]: ${error.message}`.replace(/\s+$/, '').split('\n');
  if (error.hint) lines.push(`hint: ${error.hint}`);
  if (error.plugin) lines.push(`plugin: ${error.plugin}${error.hook ? `, hook: ${error.hook}` : ''}`);
  return lines;
}

/** First line after `head`, the rest indented under it. */
function indent(lines: string[], head: string): string[] {
  return lines.map((line, i) => (i === 0 ? head + line : `    ${line}`));
}

function prefixEach(message: string, head: string): string[] {
  return message
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => head + line);
}

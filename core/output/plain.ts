import type { Writable } from 'node:stream';
import type { DeployrEvent, EventListener, HostSummary } from '../engine/events.js';
import { describeExit, firstLine, formatDuration, plural } from './format.js';
import { afterLastCarriageReturn, LineSplitter } from './line-splitter.js';

export interface PlainViewOptions {
  /** Where lines go. Default: process.stdout. */
  stream?: Writable;
  /** Also show connects, command exits with timings, and debug logs. */
  verbose?: boolean;
}

export interface PlainView {
  listener: EventListener;
  /** Writes output tails still waiting for their newline (a run that ended without run:end). */
  close(): void;
}

/** Run-level lines start with this, host lines with `[host] `. */
export const RUN_PREFIX = '[deployr] ';

/**
 * The line view for CI and pipes: one line per event worth printing, and every
 * line about a host starts with `[host] `, so `grep '^\[web-1\] '` extracts
 * one host's story from an interleaved run.
 *
 * Shown always: the run header and result, task start/end, every command
 * (`$ …`, continuation lines of a multi-line command as `> …`) and its
 * output (stdout `   line`, stderr ` ! line`), info logs (`ℹ`), warnings
 * (`⚠`), errors and failed connects (`✖`). CI logs are read after the fact,
 * so output is not hidden; a progress bar's carriage returns collapse to its
 * final state. `verbose` adds connects with timing, command exits
 * (`← exit 0 (120ms)`) and debug logs (`·`).
 *
 * Under dry run nothing timing-dependent is printed (no durations, no command
 * exits, not even in the final line), so the output for a given config is
 * byte-for-byte stable: the `[host] $ command` lines, in order per host, are
 * the dry run's result.
 */
export function createPlainView(options: PlainViewOptions = {}): PlainView {
  const stream = options.stream ?? process.stdout;
  const verbose = options.verbose ?? false;
  const splitter = new LineSplitter();
  let task = '';
  let dryRun = false;
  let hostCount = 0;
  let addresses = new Map<string, string>();

  const prefix = (host: string | undefined) => (host ? `[${host}] ` : RUN_PREFIX);
  const timing = (ms: number) => (dryRun ? '' : ` (${formatDuration(ms)})`);
  const write = (lines: string[]) => {
    if (lines.length > 0) stream.write(lines.join('\n') + '\n');
  };
  // Output is printed as it came (no trimming, even of an empty line): the prefix is the only change.
  const outputLine = (host: string, key: string, line: string) =>
    `[${host}] ${key.endsWith('\0stderr') ? '!' : ' '} ${afterLastCarriageReturn(line)}`;
  const flushTails = (keyPrefix = '') =>
    splitter.flushAll(keyPrefix).map(([key, rest]) => outputLine(key.slice(0, key.indexOf('\0')), key, rest));

  function lines(event: DeployrEvent): string[] {
    switch (event.type) {
      case 'run:start': {
        task = event.task;
        dryRun = event.dryRun;
        hostCount = event.hosts.length;
        addresses = new Map(event.hosts.map((h: HostSummary) => [h.name, h.address]));
        const names = event.hosts.map((h) => h.name).join(', ');
        return [
          `${RUN_PREFIX}${event.task} → ${event.environment}: ${plural(hostCount, 'host')}` +
            (names ? ` (${names})` : '') +
            (event.dryRun ? ' (dry run)' : ''),
        ];
      }
      case 'run:end': {
        const tails = flushTails();
        const failedHosts = new Set(event.failures.map((f) => f.host).filter((h) => h !== '')).size;
        const took = dryRun ? '' : ` in ${formatDuration(event.durationMs)}`;
        let summary: string;
        if (event.interrupted) {
          summary = `✖ ${task} interrupted${dryRun ? '' : ` after ${formatDuration(event.durationMs)}`}`;
        } else if (event.ok) {
          summary = `✔ ${task} finished on ${plural(hostCount, 'host')}${took}`;
        } else if (failedHosts > 0) {
          summary = `✖ ${task} failed on ${failedHosts} of ${plural(hostCount, 'host')}${took}`;
        } else {
          summary = `✖ ${task} failed${took}`;
        }
        return [...tails, RUN_PREFIX + summary];
      }
      case 'host:connect:start':
        if (!verbose) return [];
        return [`[${event.host}] connecting to ${addresses.get(event.host) ?? event.host}`];
      case 'host:connect:end':
        if (event.error) return [`[${event.host}] ✖ connect: ${firstLine(event.error.message)}`];
        return verbose ? [`[${event.host}] connected${timing(event.durationMs)}`] : [];
      case 'task:start':
        return [`[${event.host}] ▶ ${event.task}`];
      case 'task:end':
        if (event.status === 'ok') return [`[${event.host}] ✔ ${event.task}${timing(event.durationMs)}`];
        if (event.status === 'skipped') return [`[${event.host}] – ${event.task} skipped`];
        return [`[${event.host}] ✖ ${event.task}${event.error ? `: ${firstLine(event.error.message)}` : ' failed'}`];
      case 'command:start':
        return event.command.split('\n').map((line, i) => `[${event.host}] ${i === 0 ? '$' : '>'} ${line}`);
      case 'command:output': {
        const key = `${event.host}\0${event.id}\0${event.stream}`;
        return splitter.push(key, event.text).map((line) => outputLine(event.host, key, line));
      }
      case 'command:end': {
        const tails = flushTails(`${event.host}\0${event.id}\0`);
        if (verbose && !dryRun) tails.push(`[${event.host}] ← ${describeExit(event.code, event.signal)}${timing(event.durationMs)}`);
        return tails;
      }
      case 'log':
        if (event.level === 'debug' && !verbose) return [];
        return messageLines(prefix(event.host) + (event.level === 'debug' ? '· ' : 'ℹ '), event.message);
      case 'warning':
        return messageLines(prefix(event.host) + '⚠ ', event.message);
      case 'error':
        return [`${prefix(event.host)}✖ ${firstLine(event.error.message)}`];
    }
  }

  return {
    listener: (event) => write(lines(event)),
    close: () => write(flushTails()),
  };
}

/**
 * A multi-line message repeats the whole prefix, marker included, on every
 * line: per-host grep stays complete and no line reads as command output.
 */
function messageLines(head: string, message: string): string[] {
  return message
    .replace(/\s+$/, '')
    .split('\n')
    .map((part) => head + part);
}

import { describe, expect, it } from 'vitest';
import type { DeployrEvent } from '../../core/engine/events.js';
import { createPlainView, type PlainViewOptions } from '../../core/output/plain.js';
import { commandError, Events, Sink } from './helpers.js';

function run(events: DeployrEvent[], options: PlainViewOptions = {}): string[] {
  const sink = new Sink();
  const view = createPlainView({ ...options, stream: sink });
  for (const event of events) view.listener(event);
  view.close();
  return sink.lines;
}

describe('plain view', () => {
  it('prints a run as host-prefixed lines', () => {
    const e = new Events();
    const lines = run([
      e.runStart(['web-1', 'web-2', 'db-1']),
      ...e.connect('web-1'),
      ...e.task('web-1', 'upload', () => [
        ...e.command('web-1', 'c1', 'tar -x -C /srv/app', ['extracting\n', ['stderr', 'tar: warning\n']]),
        e.event('log', { host: 'web-1', task: 'upload', level: 'info', message: 'uploaded 3 files' }),
        e.event('log', { host: 'web-1', task: 'upload', level: 'debug', message: 'not shown' }),
      ]),
      ...e.task('web-2', 'upload', () => e.command('web-2', 'c2', 'git fetch origin', [], 128), {
        status: 'failed',
        error: commandError('web-2'),
      }),
      // The engine reports a skipped task with task:end alone.
      e.event('task:end', { host: 'web-2', task: 'switch', status: 'skipped', durationMs: 0 }),
      ...e.connect('db-1', { name: 'ConnectionError', code: 'CONNECTION_ERROR', message: 'connect ECONNREFUSED 10.0.0.3:22\nmore' }),
      e.event('warning', { message: 'task "migrate" runs nowhere' }),
      e.event('warning', { host: 'web-1', message: 'disk 91% full\nclean up /srv/app/releases' }),
      e.event('error', { host: 'web-1', error: { name: 'Error', code: 'ERROR', message: 'boom\nstack' } }),
      e.runEnd([
        { host: 'web-2', task: 'upload', error: commandError('web-2') },
        { host: 'db-1', task: '', error: { name: 'ConnectionError', code: 'CONNECTION_ERROR', message: 'connect ECONNREFUSED' } },
      ]),
    ]);
    expect(lines).toEqual([
      '[deployr] deploy → prod: 3 hosts (web-1, web-2, db-1)',
      '[web-1] ▶ upload',
      '[web-1] $ tar -x -C /srv/app',
      '[web-1]   extracting',
      '[web-1] ! tar: warning',
      '[web-1] ℹ uploaded 3 files',
      '[web-1] ✔ upload (1.2s)',
      '[web-2] ▶ upload',
      '[web-2] $ git fetch origin',
      '[web-2] ✖ upload: Command failed with exit code 128 on web-2: git fetch origin',
      '[web-2] – switch skipped',
      '[db-1] ✖ connect: connect ECONNREFUSED 10.0.0.3:22',
      '[deployr] ⚠ task "migrate" runs nowhere',
      '[web-1] ⚠ disk 91% full',
      '[web-1] ⚠ clean up /srv/app/releases',
      '[web-1] ✖ boom',
      '[deployr] ✖ deploy failed on 2 of 3 hosts in 4.1s',
    ]);
  });

  it('starts every line about a host with [host] and every other line with [deployr]', () => {
    const e = new Events();
    const hosts = ['a', 'b.example.com', 'deploy@10.0.0.1'];
    const events = [e.runStart(hosts)];
    for (const host of hosts) {
      events.push(...e.connect(host));
      events.push(
        ...e.task(host, 'build', () => [
          ...e.command(host, `${host}-1`, 'printf "x\\ny"\necho multi-line', ['x\n\ny', '\r\n', ['stderr', 'e1\ne2']]),
          e.event('log', { host, level: 'info', message: 'one\ntwo' }),
        ]),
      );
    }
    events.push(e.runEnd());
    const lines = run(events, { verbose: true });
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      expect(['[deployr] ', ...hosts.map((h) => `[${h}] `)].some((p) => line.startsWith(p))).toBe(true);
    }
    expect(lines.filter((l) => l.startsWith('[deployr] '))).toHaveLength(2);
  });

  it('buffers partial lines per command and stream, flushing the rest at command:end', () => {
    const e = new Events();
    const out = (host: string, id: string, text: string, stream: 'stdout' | 'stderr' = 'stdout') =>
      e.event('command:output', { host, id, stream, text });
    const lines = run([
      e.runStart(['web-1', 'web-2']),
      e.event('command:start', { host: 'web-1', id: 'c1', command: 'build' }),
      e.event('command:start', { host: 'web-1', id: 'c2', command: 'watch' }),
      e.event('command:start', { host: 'web-2', id: 'c1', command: 'build' }),
      out('web-1', 'c1', 'compil'),
      out('web-1', 'c2', 'tick'),
      out('web-2', 'c1', 'other host '),
      out('web-1', 'c1', 'ing…', 'stderr'),
      out('web-1', 'c1', 'ing\nlinking\nwrit'),
      out('web-1', 'c1', ' done\n', 'stderr'),
      out('web-2', 'c1', 'line\n'),
      e.event('command:end', { host: 'web-1', id: 'c1', code: 0, signal: null, durationMs: 5 }),
      out('web-1', 'c2', ' tock\r\n'),
      e.event('command:end', { host: 'web-1', id: 'c2', code: 0, signal: null, durationMs: 5 }),
      e.event('command:end', { host: 'web-2', id: 'c1', code: 0, signal: null, durationMs: 5 }),
    ]);
    expect(lines).toEqual([
      '[deployr] deploy → prod: 2 hosts (web-1, web-2)',
      '[web-1] $ build',
      '[web-1] $ watch',
      '[web-2] $ build',
      '[web-1]   compiling',
      '[web-1]   linking',
      '[web-1] ! ing… done',
      '[web-2]   other host line',
      '[web-1]   writ',
      '[web-1]   tick tock',
    ]);
  });

  it('writes output still waiting for its newline at run:end, and on close()', () => {
    const e = new Events();
    const start = e.runStart(['web-1']);
    const chunk = e.event('command:output', { host: 'web-1', id: 'c1', stream: 'stdout', text: 'no newline' });
    expect(run([start, chunk, e.runEnd()])).toEqual([
      '[deployr] deploy → prod: 1 host (web-1)',
      '[web-1]   no newline',
      '[deployr] ✔ deploy finished on 1 host in 4.1s',
    ]);
    expect(run([start, chunk])).toEqual(['[deployr] deploy → prod: 1 host (web-1)', '[web-1]   no newline']);
  });

  it('shows a progress bar as its last state and keeps empty lines', () => {
    const e = new Events();
    const lines = run([
      e.runStart(['web-1']),
      ...e.command('web-1', 'c1', 'download', ['  0%\r 50%', '\r100%\n', '\n', ['stderr', '\n']]),
    ]);
    expect(lines.slice(2)).toEqual(['[web-1]   100%', '[web-1]   ', '[web-1] ! ']);
  });

  it('passes masked text through unchanged', () => {
    const e = new Events();
    const lines = run([
      e.runStart(['web-1']),
      ...e.command('web-1', 'c1', "curl -H 'Authorization: Bearer ***' https://api/x", ['token=*** ok\n', ['stderr', 'user: *** %s %d\n']]),
    ]);
    expect(lines.slice(1)).toEqual([
      "[web-1] $ curl -H 'Authorization: Bearer ***' https://api/x",
      '[web-1]   token=*** ok',
      '[web-1] ! user: *** %s %d',
    ]);
  });

  it('prints a dry run exactly: commands in order per host, no timings anywhere', () => {
    const e = new Events();
    const events = [e.runStart(['web-1', 'web-2'], { dryRun: true })];
    for (const host of ['web-1', 'web-2']) {
      events.push(
        ...e.task(host, 'deploy', () => [
          ...e.command(host, `${host}:1`, 'mkdir -p /srv/app/releases/20260301'),
          ...e.command(host, `${host}:2`, "cd /srv/app && ln -sfn releases/20260301 current\nsystemctl reload app"),
        ]),
      );
    }
    events.push(e.runEnd());
    const expected = [
      '[deployr] deploy → prod: 2 hosts (web-1, web-2) (dry run)',
      '[web-1] ▶ deploy',
      '[web-1] $ mkdir -p /srv/app/releases/20260301',
      '[web-1] $ cd /srv/app && ln -sfn releases/20260301 current',
      '[web-1] > systemctl reload app',
      '[web-1] ✔ deploy',
      '[web-2] ▶ deploy',
      '[web-2] $ mkdir -p /srv/app/releases/20260301',
      '[web-2] $ cd /srv/app && ln -sfn releases/20260301 current',
      '[web-2] > systemctl reload app',
      '[web-2] ✔ deploy',
      '[deployr] ✔ deploy finished on 2 hosts',
    ];
    expect(run(events)).toEqual(expected);
    // --verbose adds debug logs, but still nothing that depends on timing.
    expect(run(events, { verbose: true })).toEqual(expected);
  });

  it('adds connects, exits with timings and debug logs under verbose', () => {
    const e = new Events();
    const lines = run(
      [
        e.runStart(['web-1']),
        ...e.connect('web-1'),
        ...e.command('web-1', 'c1', 'false', [], 1),
        e.event('command:end', { host: 'web-1', id: 'c2', code: null, signal: 'SIGTERM', durationMs: 30_000 }),
        e.event('command:end', { host: 'web-1', id: 'c3', code: null, signal: null, durationMs: 65_000 }),
        e.event('log', { level: 'debug', message: 'resolved 1 host' }),
      ],
      { verbose: true },
    );
    expect(lines.slice(1)).toEqual([
      '[web-1] connecting to deploy@web-1.example:22',
      '[web-1] connected (120ms)',
      '[web-1] $ false',
      '[web-1] ← exit 1 (250ms)',
      '[web-1] ← killed by SIGTERM (30.0s)',
      '[web-1] ← no exit status (1m 05s)',
      '[deployr] · resolved 1 host',
    ]);
  });

  it('words the run result for success, failure without hosts, and interruption', () => {
    const e = new Events();
    const end = (event: DeployrEvent) => run([e.runStart(['web-1', 'web-2']), event]).at(-1);
    expect(end(e.runEnd())).toBe('[deployr] ✔ deploy finished on 2 hosts in 4.1s');
    expect(end(e.runEnd([{ host: '', task: 'start', error: { name: 'Error', code: 'ERROR', message: 'x' } }]))).toBe(
      '[deployr] ✖ deploy failed in 4.1s',
    );
    expect(end(e.runEnd([], { ok: false, interrupted: true, exitCode: 130, durationMs: 61_000 }))).toBe(
      '[deployr] ✖ deploy interrupted after 1m 01s',
    );
  });
});

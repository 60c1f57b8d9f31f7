import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogFiles } from '../../core/output/log-files.js';
import { RUN_MARKER } from '../../core/output/log-rotation.js';
import { commandError, Events, RUN_ID } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'deployr-logs-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (...path: string[]) => readFileSync(join(dir, ...path), 'utf8');

describe('log files', () => {
  it('writes a full log per host and run.log, whatever the verbosity', async () => {
    const e = new Events();
    const logs = createLogFiles({ logDir: dir });
    expect(logs.pathFor('web-1')).toBeUndefined();
    const events = [
      e.runStart(['web-1', 'web-2']),
      ...e.connect('web-1'),
      ...e.task('web-1', 'upload', () => [
        ...e.command('web-1', 'c1', 'tar -x\n--strip 1', ['one\ntw', 'o\n', ['stderr', 'warn ***\n'], 'tail']),
        e.event('log', { host: 'web-1', task: 'upload', level: 'debug', message: 'sent 3 files' }),
      ]),
      ...e.task('web-2', 'upload', () => e.command('web-2', 'c2', 'git fetch origin', [], 128), {
        status: 'failed',
        error: commandError('web-2', { hint: 'Check the deploy key.' }),
      }),
      e.event('warning', { message: 'run-level warning' }),
      e.runEnd([{ host: 'web-2', task: 'upload', error: commandError('web-2') }]),
    ];
    for (const event of events) logs.listener(event);
    await logs.close();

    const runDir = join(dir, RUN_ID);
    expect(logs.runDir).toBe(runDir);
    expect(logs.pathFor('web-1')).toBe(join(runDir, 'web-1.log'));
    expect(logs.pathFor('')).toBe(join(runDir, 'run.log'));
    expect(logs.pathFor('nope')).toBeUndefined();
    expect(readdirSync(runDir).sort()).toEqual([RUN_MARKER, 'run.log', 'web-1.log', 'web-2.log']);
    expect(read(RUN_ID, 'web-1.log')).toBe(
      [
        `2026-03-01T12:00:00.010Z run ${RUN_ID}: deploy → prod, host web-1 deploy@web-1.example:22 roles web`,
        '2026-03-01T12:00:00.020Z connecting to deploy@web-1.example:22',
        '2026-03-01T12:00:00.030Z connected in 120ms',
        '2026-03-01T12:00:00.040Z ▶ upload',
        '2026-03-01T12:00:00.050Z [c1] $ tar -x',
        '2026-03-01T12:00:00.050Z [c1] > --strip 1',
        '2026-03-01T12:00:00.060Z [c1] out| one',
        '2026-03-01T12:00:00.070Z [c1] out| two',
        '2026-03-01T12:00:00.080Z [c1] err| warn ***',
        '2026-03-01T12:00:00.100Z [c1] out| tail',
        '2026-03-01T12:00:00.100Z [c1] exit 0 (250ms)',
        '2026-03-01T12:00:00.110Z debug [upload]: sent 3 files',
        '2026-03-01T12:00:00.120Z ✔ upload (1.2s)',
        '2026-03-01T12:00:00.180Z run failed (exit code 1); this host did not fail',
        '',
      ].join('\n'),
    );
    expect(read(RUN_ID, 'web-2.log')).toContain(
      [
        '2026-03-01T12:00:00.150Z [c2] exit 128 (250ms)',
        '2026-03-01T12:00:00.160Z ✖ upload failed after 1.2s: CommandError [COMMAND_ERROR]: Command failed with exit code 128 on web-2: git fetch origin',
        '2026-03-01T12:00:00.160Z       │ fatal: could not read from remote repository.',
        '2026-03-01T12:00:00.160Z     hint: Check the deploy key.',
      ].join('\n'),
    );
    expect(read(RUN_ID, 'run.log')).toBe(
      [
        `2026-03-01T12:00:00.010Z run ${RUN_ID}: deploy → prod, 2 hosts, concurrency 5`,
        '2026-03-01T12:00:00.010Z   host web-1 deploy@web-1.example:22 roles web',
        '2026-03-01T12:00:00.010Z   host web-2 deploy@web-2.example:22 roles web',
        '2026-03-01T12:00:00.170Z warning: run-level warning',
        '2026-03-01T12:00:00.180Z ✖ run failed in 4.1s, exit code 1',
        '2026-03-01T12:00:00.180Z   web-2 [upload]: CommandError [COMMAND_ERROR]: Command failed with exit code 128 on web-2: git fetch origin',
        '2026-03-01T12:00:00.180Z       │ fatal: could not read from remote repository.',
        '',
      ].join('\n'),
    );
    expect(statSync(runDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(runDir, 'web-1.log')).mode & 0o777).toBe(0o600);
  });

  it('writes in the background, without waiting for close()', async () => {
    const e = new Events();
    const logs = createLogFiles({ logDir: dir, flushMs: 5 });
    logs.listener(e.runStart(['web-1']));
    logs.listener(e.event('log', { host: 'web-1', level: 'info', message: 'hello' }));
    expect(existsSync(join(dir, RUN_ID, 'web-1.log'))).toBe(false); // nothing written synchronously
    for (let i = 0; i < 100 && !existsSync(join(dir, RUN_ID, 'web-1.log')); i++) await sleep(10);
    expect(read(RUN_ID, 'web-1.log')).toContain('info: hello');
    await logs.close();
  });

  it('gives every host its own file name inside the run directory', async () => {
    const e = new Events();
    const hosts = ['deploy@10.0.0.1', '[::1]:2222', '../../etc/passwd', 'web/1', 'web_1', 'Web_1', 'run', '.hidden', 'x'.repeat(300)];
    const logs = createLogFiles({ logDir: dir });
    logs.listener(e.runStart(hosts));
    for (const host of hosts) logs.listener(e.event('log', { host, level: 'info', message: `I am ${host}` }));
    await logs.close();

    const names = hosts.map((host) => logs.pathFor(host)!.slice(join(dir, RUN_ID).length + 1));
    expect(names.slice(0, 8)).toEqual([
      'deploy_10.0.0.1.log',
      '____1__2222.log',
      '_.._.._etc_passwd.log',
      'web_1.log',
      'web_1-2.log',
      'Web_1-3.log',
      'run-2.log',
      '_.hidden.log',
    ]);
    expect(names[8]!.length).toBeLessThan(100);
    expect(readdirSync(join(dir, RUN_ID))).toHaveLength(hosts.length + 2); // + run.log and the marker
    for (const host of hosts) expect(readFileSync(logs.pathFor(host)!, 'utf8')).toContain(`info: I am ${host}`);
    expect(readdirSync(dir)).toEqual([RUN_ID]);
  });

  it('keeps the newest runs and deletes older run directories, and nothing else', async () => {
    const run = (n: number) => `20260101T0000${String(n).padStart(5, '0')}Z-beef`;
    for (let n = 1; n <= 25; n++) {
      mkdirSync(join(dir, run(n)));
      writeFileSync(join(dir, run(n), RUN_MARKER), '');
      writeFileSync(join(dir, run(n), 'web-1.log'), 'old');
    }
    mkdirSync(join(dir, '20250101T000000000Z-0000')); // looks like a run, has no marker
    mkdirSync(join(dir, 'notes')); // has a marker, but is not named like a run
    writeFileSync(join(dir, 'notes', RUN_MARKER), '');
    writeFileSync(join(dir, '20240101T000000000Z-0000'), 'a file');
    const outside = mkdtempSync(join(tmpdir(), 'deployr-logs-outside-'));
    writeFileSync(join(outside, RUN_MARKER), '');
    symlinkSync(outside, join(dir, '20230101T000000000Z-0000'));

    const e = new Events();
    const logs = createLogFiles({ logDir: dir, keepRuns: 20 });
    logs.listener(e.runStart(['web-1']));
    logs.listener(e.runEnd());
    await logs.close();

    const left = readdirSync(dir).sort();
    expect(left).toEqual(
      [
        '20230101T000000000Z-0000',
        '20240101T000000000Z-0000',
        '20250101T000000000Z-0000',
        ...Array.from({ length: 19 }, (_, i) => run(i + 7)),
        RUN_ID,
        'notes',
      ].sort(),
    );
    expect(existsSync(join(outside, RUN_MARKER))).toBe(true);
    rmSync(outside, { recursive: true, force: true });
  });

  it('refuses an unsafe run id: reports it once and writes nothing', async () => {
    const errors: unknown[] = [];
    const e = new Events('../escape');
    const logs = createLogFiles({ logDir: dir, onError: (error) => errors.push(error) });
    logs.listener(e.runStart(['web-1']));
    logs.listener(e.event('log', { host: 'web-1', level: 'info', message: 'x' }));
    logs.listener(e.runEnd());
    await logs.close();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('"../escape" is not a safe directory name');
    expect(readdirSync(dir)).toEqual([]);
    expect(logs.pathFor('web-1')).toBeUndefined();
  });

  it('reports a log directory it cannot create, without throwing', async () => {
    writeFileSync(join(dir, 'file'), '');
    const errors: unknown[] = [];
    const e = new Events();
    const logs = createLogFiles({ logDir: join(dir, 'file', 'logs'), onError: (error) => errors.push(error) });
    logs.listener(e.runStart(['web-1']));
    logs.listener(e.runEnd());
    await logs.close();
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });
});

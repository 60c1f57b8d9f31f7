import { describe, expect, it } from 'vitest';
import type { HostFailure } from '../../core/engine/events.js';
import { formatFailureSummary } from '../../core/output/summary.js';
import { commandError } from './helpers.js';

const logPathFor = (host: string) => `.deployr/logs/20260301T120000000Z-a1b2/${host || 'run'}.log`;

describe('failure summary', () => {
  it('is empty when nothing failed', () => {
    expect(formatFailureSummary([])).toBe('');
  });

  it('says when only the run itself failed', () => {
    const interrupted: HostFailure = { host: '', task: 'deploy', error: { name: 'InterruptedError', code: 'INTERRUPTED', message: 'Interrupted before the run finished' } };
    expect(formatFailureSummary([interrupted])).toBe(
      ['The run failed:', '', '✖ (run) — task "deploy"', '  Interrupted before the run finished', ''].join('\n'),
    );
  });

  it('reports a failed command: task, command, exit code, stderr tail, hint, log', () => {
    const failure: HostFailure = {
      host: 'web-1',
      task: 'upload',
      error: commandError('web-1', { hint: 'Check that the deploy key can read the repository.' }),
    };
    expect(formatFailureSummary([failure], { logPathFor })).toBe(
      [
        '1 host failed:',
        '',
        '✖ web-1 — task "upload"',
        '  Command failed with exit code 128 on web-1: git fetch origin',
        '  $ git fetch origin',
        '  exit code 128',
        '  stderr:',
        '  │ remote: Repository not found.',
        '  │ fatal: could not read from remote repository.',
        '  → Check that the deploy key can read the repository.',
        '  log: .deployr/logs/20260301T120000000Z-a1b2/web-1.log',
        '',
      ].join('\n'),
    );
  });

  it('names the plugin and hook of a plugin failure, with the command behind it', () => {
    const failure: HostFailure = {
      host: 'web-2',
      task: 'deploy',
      error: commandError('web-2', {
        name: 'PluginError',
        code: 'PLUGIN_ERROR',
        message: '[deployr:git] failed in "predeploy" on web-2: Command failed with exit code 128 on web-2: git fetch origin\n  │ fatal: …',
        plugin: 'deployr:git',
        hook: 'predeploy',
        stderrTail: 'fatal: could not read from remote repository.',
      }),
    };
    const failures: HostFailure[] = [
      failure,
      {
        host: '',
        task: '',
        error: { name: 'PluginError', code: 'PLUGIN_ERROR', message: '[deployr:slack] failed in "start": 401 Unauthorized', plugin: 'deployr:slack', hook: 'start' },
      },
    ];
    expect(formatFailureSummary(failures, { logPathFor })).toBe(
      [
        '1 host failed, and the run itself:',
        '',
        '✖ web-2 — task "deploy"',
        '  [deployr:git] failed in "predeploy" on web-2: Command failed with exit code 128 on web-2: git fetch origin',
        '  plugin: deployr:git, in hook "predeploy"',
        '  $ git fetch origin',
        '  exit code 128',
        '  stderr:',
        '  │ fatal: could not read from remote repository.',
        '  log: .deployr/logs/20260301T120000000Z-a1b2/web-2.log',
        '',
        '✖ (run) — hook "start"',
        '  [deployr:slack] failed in "start": 401 Unauthorized',
        '  plugin: deployr:slack, in hook "start"',
        '  log: .deployr/logs/20260301T120000000Z-a1b2/run.log',
        '',
      ].join('\n'),
    );
  });

  it('reports a connection failure with its whole message and hint', () => {
    const failure: HostFailure = {
      host: 'db-1',
      task: '',
      error: {
        name: 'HostKeyError',
        code: 'HOST_KEY_ERROR',
        message: 'Host key of db-1 changed\n  fingerprint SHA256:abc',
        hint: 'If the server was reinstalled, remove its old key with ssh-keygen -R db-1.',
      },
    };
    expect(formatFailureSummary([failure])).toBe(
      [
        '1 host failed:',
        '',
        '✖ db-1 — connecting',
        '  Host key of db-1 changed',
        '    fingerprint SHA256:abc',
        '  → If the server was reinstalled, remove its old key with ssh-keygen -R db-1.',
        '',
      ].join('\n'),
    );
  });

  it('says a task or command timed out, and how a command was stopped', () => {
    const timeout: HostFailure = {
      host: 'web-1',
      task: 'migrate',
      error: { name: 'TaskTimeoutError', code: 'TASK_TIMEOUT', message: 'Task "migrate" timed out after 30s on web-1' },
    };
    const commandTimeout: HostFailure = {
      host: 'web-2',
      task: 'migrate',
      error: commandError('web-2', { message: 'Command timed out on web-2: ./migrate', command: './migrate', exitCode: null, signal: 'SIGTERM', stderrTail: '' }),
    };
    const killed: HostFailure = {
      host: 'web-3',
      task: 'migrate',
      error: commandError('web-3', { message: 'Command was killed by SIGKILL on web-3: ./migrate', command: './migrate', exitCode: null, signal: 'SIGKILL', stderrTail: '' }),
    };
    const lost: HostFailure = {
      host: 'web-4',
      task: 'migrate',
      error: commandError('web-4', { message: 'Command failed with exit code null on web-4: ./migrate', command: './migrate', exitCode: null, signal: null, stderrTail: '' }),
    };
    const text = formatFailureSummary([timeout, commandTimeout, killed, lost], { logPathFor });
    expect(text).toContain(
      [
        '✖ web-1 — task "migrate"',
        '  Task "migrate" timed out after 30s on web-1',
        '  timed out',
        '  log: .deployr/logs/20260301T120000000Z-a1b2/web-1.log',
      ].join('\n'),
    );
    expect(text).toContain(
      ['✖ web-2 — task "migrate"', '  Command timed out on web-2: ./migrate', '  $ ./migrate', '  timed out (stopped with SIGTERM)'].join('\n'),
    );
    expect(text).toContain('  $ ./migrate\n  killed by SIGKILL\n');
    expect(text).toContain('  $ ./migrate\n  no exit status (the connection was lost or the command was stopped)\n');
  });

  it('reports hosts that failed the same way once, naming them', () => {
    const hosts = Array.from({ length: 8 }, (_, i) => `web-${i + 1}`);
    const failures: HostFailure[] = [
      ...hosts.map((host) => ({ host, task: 'upload', error: commandError(host) })),
      { host: 'db-1', task: 'upload', error: commandError('db-1', { exitCode: 1, message: 'Command failed with exit code 1 on db-1: git fetch origin' }) },
    ];
    const text = formatFailureSummary(failures, { logPathFor });
    expect(text.split('\n').filter((line) => line.startsWith('✖ '))).toEqual([
      '✖ web-1, web-2, web-3, web-4, web-5 and 3 more — task "upload"',
      '✖ db-1 — task "upload"',
    ]);
    expect(text.startsWith('9 hosts failed:\n')).toBe(true);
    expect(text).toContain(
      '  logs: .deployr/logs/20260301T120000000Z-a1b2/web-1.log, .deployr/logs/20260301T120000000Z-a1b2/web-2.log, ' +
        '.deployr/logs/20260301T120000000Z-a1b2/web-3.log and 5 more in .deployr/logs/20260301T120000000Z-a1b2\n',
    );
  });
});

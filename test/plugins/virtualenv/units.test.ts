// deployr:virtualenv without hosts: option checks (every problem at once),
// the exact commands it runs (and hostile paths through a real sh), the
// decision table, pip's failures read back, ensureVenv on a recording
// (unchanged / created / --dry-run), the helper's command, the README's
// options table against the schema, and a bad config through the CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, createDeployr, Host, RecordingConnection, secret, type Logger, type TaskContext } from 'deployr';
import { virtualenv, venv, optionsSchema } from '../../../plugins/virtualenv/index.js';
import { createCommand, installCommand, linkCommand, markCommand } from '../../../plugins/virtualenv/build.js';
import { ensureVenv, planFor } from '../../../plugins/virtualenv/ensure.js';
import { hashOf, markerOf, pipOptions, shown, type Fingerprint } from '../../../plugins/virtualenv/fingerprint.js';
import { linkTarget } from '../../../plugins/virtualenv/layout.js';
import { settingsOf } from '../../../plugins/virtualenv/options.js';
import { pipDiagnosis, venvFailure } from '../../../plugins/virtualenv/pip-failure.js';
import { venvRun } from '../../../plugins/virtualenv/run-state.js';
import { listOptions } from '../../../core/config/schema/index.js';
import { cli, tempProject } from '../../cli/run-cli.js';

const problems = (options: unknown): string => {
  try {
    virtualenv(options as never);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message;
  }
  throw new Error('no problem found');
};

describe('options', () => {
  it('defaults', () => {
    expect(settingsOf({})).toEqual({
      python: 'python3',
      requirements: [],
      packages: [],
      scope: 'release',
      name: 'venv',
      dir: '.venv',
      findLinks: [],
      noIndex: false,
      pipArgs: [],
    });
    expect(virtualenv().name).toBe('deployr:virtualenv');
  });

  it('lists every problem at once, each with its path', () => {
    expect(
      problems({
        python: 'python3; rm -rf /',
        requirements: ['/etc/requirements.txt', '../up.txt', ''],
        packages: ['-e .'],
        scope: 'global',
        name: 'my venv',
        dir: '-x',
        indexUrl: 'ftp://mirror',
        findLinks: ['--pre'],
        noIndex: 'yes',
        pipArgs: ['--index-url=https://x', '-r', 'more.txt'],
        roles: 'web',
        pythn: 'python3.12',
      }),
    ).toBe(
      [
        'Plugin deployr:virtualenv has 15 problems:',
        '  options.python: expected a program name or an absolute path such as "python3.12" or "/usr/bin/python3", got "python3; rm -rf /"',
        '  options.requirements[0]: a requirements file must be relative to the release, e.g. "requirements.txt", got "/etc/requirements.txt"',
        '  options.requirements[1]: a requirements file must stay inside the release (no ".."), got "../up.txt"',
        '  options.requirements[2]: expected a non-empty string, got ""',
        '  options.packages[0]: "-e ." is a pip option, not a package: put it in pipArgs',
        "  options.scope: expected 'release' or 'shared', got \"global\"",
        '  options.name: expected a name of letters, digits, ".", "_" and "-", got "my venv"',
        '  options.dir: dir must not start with "-", got "-x"',
        '  options.indexUrl: expected an http(s):// or file:// URL, got "ftp://mirror"',
        '  options.findLinks[0]: expected a URL or a directory, got "--pre"',
        '  options.noIndex: expected true or false, got "yes"',
        '  options.pipArgs[0]: "--index-url=https://x" has an option of its own: use indexUrl',
        '  options.pipArgs[1]: "-r" has an option of its own: use requirements',
        '  options.roles: expected a list of non-empty strings, got "web"',
        "  options.pythn: unknown key — did you mean 'python'?",
      ].join('\n'),
    );
  });

  it('options that contradict each other', () => {
    expect(problems({ noIndex: true, indexUrl: 'https://pypi.example.com/simple', findLinks: ['wheels'] })).toContain('options: noIndex and indexUrl contradict each other: drop one');
    expect(problems({ noIndex: true, requirements: ['requirements.txt'] })).toContain('options: noIndex leaves pip nowhere to find packages: add findLinks');
  });

  it('a second venv has its own name, and so a plugin name of its own; two at one place are refused before the run', async () => {
    expect(virtualenv({ name: 'tools' }).name).toBe('deployr:virtualenv:tools');
    const config = (second: object) => ({ app: 'x', deployTo: '/srv/x', plugins: [virtualenv(), virtualenv(second)], environments: { prod: { hosts: ['a'] } } });
    await expect(createDeployr({ config: config({ requirements: ['r.txt'] }), environment: 'prod' })).rejects.toThrow('Plugin "deployr:virtualenv" is listed twice');
    await expect(createDeployr({ config: config({ name: 'tools' }), environment: 'prod' })).rejects.toThrow(
      '[deployr:virtualenv] failed in "apply": virtualenvs "tools" and "venv" both link <release>/.venv',
    );
    const two = await createDeployr({ config: config({ name: 'tools', dir: '.tools' }), environment: 'prod' });
    expect(two.plugins.map((p) => p.name)).toEqual(['deployr:virtualenv', 'deployr:virtualenv:tools']);
    const shared = { ...config({}), plugins: [virtualenv()], release: { shared: ['.venv/'] } };
    await expect(createDeployr({ config: shared, environment: 'prod' })).rejects.toThrow('virtualenv "venv": release.shared has ".venv/", where each release gets its venv link');
  });

  it('the README lists every option with its description (one declaration, two places)', () => {
    const readme = readFileSync(new URL('../../../plugins/virtualenv/README.md', import.meta.url), 'utf8');
    for (const row of listOptions(optionsSchema).filter((r) => !r.path.includes('['))) {
      const line = readme.split('\n').find((l) => l.startsWith(`| \`${row.path}\` |`));
      expect(line, row.path).toBeDefined();
      expect(line).toContain(`| ${row.description} |`);
      expect(line).toContain(row.default === undefined ? '| — |' : `| \`${JSON.stringify(row.default).replaceAll('"', "'")}\` |`);
    }
  });
});

describe('commands', () => {
  const venvDir = '/srv/app/shared/venvs/venv/0123456789abcdef';
  it('exactly', () => {
    expect(createCommand('python3.11', venvDir).display()).toBe(
      `rm -rf -- ${venvDir} && mkdir -p -- /srv/app/shared/venvs/venv && python3.11 -m venv ${venvDir}`,
    );
    expect(installCommand(venvDir, ['--no-index', '--find-links', 'wheels'], ['requirements.txt', 'dev requirements.txt'], ['gunicorn>=22']).display()).toBe(
      `${venvDir}/bin/python -m pip install --disable-pip-version-check --no-input --progress-bar off --no-index --find-links wheels -r requirements.txt -r 'dev requirements.txt' 'gunicorn>=22'`,
    );
    expect(linkCommand('/srv/app/releases/1', 'env/py', 'shared/venv').display()).toBe(
      'rm -rf -- /srv/app/releases/1/env/py && mkdir -p -- /srv/app/releases/1/env && ln -s -- ../../../shared/venv /srv/app/releases/1/env/py',
    );
    expect(linkTarget('./.venv/', 'shared/venv')).toBe('../../shared/venv');
  });

  it('hostile paths survive a real sh: the link and the marker land where they should, and nothing else runs', () => {
    const root = mkdtempSync(path.join(tmpdir(), "venv-q 'it's' $(touch pwned) `x`-"));
    const release = path.join(root, 'releases', 'a b');
    const venvPath = "shared/venvs/x$(touch pwned)'; echo";
    execFileSync('sh', ['-c', `mkdir -p "$1/$2"`, 'sh', release, venvPath.replace(/^/, '../../')]);
    execFileSync('sh', ['-c', linkCommand(release, "my .venv'", venvPath).render()], { cwd: root });
    expect(readlinkSync(path.join(release, "my .venv'"))).toBe(`../../${venvPath}`);
    const fingerprint: Fingerprint = { python: { version: '3.11.2', executable: '/usr/bin/python3.11' }, requirements: [{ path: "r'$x.txt", sha256: 'a'.repeat(64) }], packages: ['x==1; python_version > "3"'], pip: [] };
    const dir = path.join(root, "venv $(touch pwned)");
    execFileSync('sh', ['-c', `mkdir -p "$1"`, 'sh', dir]);
    execFileSync('sh', ['-c', markCommand(dir, markerOf(fingerprint)).render()], { cwd: root });
    expect(JSON.parse(readFileSync(path.join(dir, '.deployr-venv.json'), 'utf8'))).toEqual(markerOf(fingerprint));
    expect(existsSync(path.join(root, 'pwned')) || existsSync(path.join(release, 'pwned'))).toBe(false);
  });
});

describe('secrets in pip options', () => {
  it('reach pip, but no log, fingerprint or marker', async () => {
    const token = 'https://user:t0ken@pypi.example.com/simple';
    const settings = settingsOf({ indexUrl: secret(token), pipArgs: ['--extra-index-url', secret(token)], packages: ['x'] });
    const command = installCommand('/v', pipOptions(settings), [], ['x']);
    expect(command.display()).toBe('/v/bin/python -m pip install --disable-pip-version-check --no-input --progress-bar off --index-url *** --extra-index-url *** x');
    expect(command.render()).toContain(`--index-url ${token} `);
    expect(shown(pipOptions(settings))).toEqual(['--index-url', '***', '--extra-index-url', '***']);
    expect(problems({ indexUrl: secret('anything'), findLinks: [secret('x'), ''], pipArgs: [''] })).toBe(
      ['Plugin deployr:virtualenv has 2 problems:', '  options.findLinks[1]: expected a URL or a directory, got ""', '  options.pipArgs[0]: expected a non-empty string, got ""'].join('\n'),
    );
  });
});

describe('planFor', () => {
  const fingerprint: Fingerprint = { python: { version: '3.11.2', executable: '/usr/bin/python3.11' }, requirements: [], packages: ['a'], pip: [] };
  const hash = hashOf(fingerprint);
  const marker = markerOf(fingerprint);
  const complete = { runnable: true, version: '3.11.2', marker };
  it('decides from what the host has', () => {
    expect(planFor('release', { runnable: false }, fingerprint, hash)).toMatchObject({ action: 'create', status: 'created' });
    expect(planFor('shared', complete, fingerprint, hash)).toMatchObject({ action: 'none', status: 'unchanged' });
    expect(planFor('shared', { ...complete, version: '3.10.99' }, fingerprint, hash)).toEqual({ action: 'create', status: 'updated', why: 'Python 3.10.99 → 3.11.2' });
    expect(planFor('shared', { ...complete, marker: { ...marker, python: { version: '3.11.2', executable: '/opt/py/bin/python3.11' } } }, fingerprint, hash)).toMatchObject({ action: 'create' });
    expect(planFor('shared', { ...complete, runnable: false }, fingerprint, hash)).toMatchObject({ action: 'create', why: 'its bin/python does not run' });
    expect(planFor('release', { runnable: true, version: '3.11.2' }, fingerprint, hash)).toMatchObject({ action: 'create', why: 'unfinished (or not made by deployr)' });
    expect(planFor('shared', { ...complete, marker: { ...marker, hash: 'other' } }, fingerprint, hash)).toEqual({ action: 'install', status: 'updated', why: 'requirements changed' });
    expect(planFor('release', { ...complete, marker: { ...marker, hash: 'other' } }, fingerprint, hash)).toMatchObject({ action: 'create' });
  });
});

describe('pip failures', () => {
  it('names the requirement and the reason', () => {
    expect(
      pipDiagnosis(
        'Looking in links: wheels\nERROR: Could not find a version that satisfies the requirement deployrdemo==9.9 (from versions: 1.0, 2.0)\nERROR: No matching distribution found for deployrdemo==9.9\n',
      ),
    ).toEqual({ reason: 'no matching distribution for deployrdemo==9.9', requirement: 'deployrdemo==9.9' });
    expect(pipDiagnosis('ERROR: Could not open requirements file: [Errno 2] No such file or directory: \'x.txt\'\n')).toEqual({
      reason: "cannot read a requirements file: [Errno 2] No such file or directory: 'x.txt'",
    });
    expect(pipDiagnosis('  error: subprocess-exited-with-error\n  Failed building wheel for lxml\nERROR: Could not build wheels for lxml, which is required\n')).toEqual({
      reason: 'building lxml failed',
      requirement: 'lxml',
    });
    expect(pipDiagnosis('ERROR: Cannot install a==1 and b==2 because these package versions have conflicting dependencies.\n')).toMatchObject({ requirement: 'a==1 and b==2' });
    expect(pipDiagnosis('Traceback…\nOSError: disk full\n')).toEqual({ reason: 'OSError: disk full' });
  });

  it('a Python without venv/ensurepip gets the package to install', () => {
    const error = venvFailure('h1', 'shared/venv', 'python3', 'The virtual environment was not created successfully because ensurepip is not\navailable.  On Debian/Ubuntu systems, you need to install the python3-venv\npackage using the following command.\n');
    expect(error.message).toBe(
      'python3 -m venv could not create shared/venv\n  │ The virtual environment was not created successfully because ensurepip is not\n  │ available.  On Debian/Ubuntu systems, you need to install the python3-venv\n  │ package using the following command.',
    );
    expect(error.hint).toContain('install python3-venv');
  });
});

describe('ensureVenv on a recording', () => {
  const sha = 'f'.repeat(64);
  const python = { version: '3.11.2', executable: '/usr/bin/python3.11' };
  const settings = settingsOf({ scope: 'shared', requirements: ['requirements.txt'], noIndex: true, findLinks: ['wheels'] });
  const fingerprint: Fingerprint = { python, requirements: [{ path: 'requirements.txt', sha256: sha }], packages: [], pip: ['--no-index', '--find-links', 'wheels'] };
  const target = { deployTo: '/srv/app', release: '/srv/app/releases/7', link: true };

  function recording(venvState: string): { ctx: Pick<TaskContext, 'host' | 'log' | 'dryRun' | 'signal'>; connection: RecordingConnection; messages: string[] } {
    const connection = new RecordingConnection('h1')
      .respond('deployr-python-exit', { stdout: `deployr-python ${JSON.stringify(python)}\ndeployr-python-exit 0\ndeployr-release\n${sha}  -\n` })
      .respond('echo deployr-venv', { stdout: `deployr-venv\n${venvState}` });
    const messages: string[] = [];
    const log: Logger = { info: (m) => messages.push(m), debug: () => undefined, warn: (m) => messages.push(`warn ${m}`) };
    return { ctx: { host: new Host(connection), log, dryRun: false, signal: new AbortController().signal }, connection, messages };
  }

  it('unchanged: two reads and the link, nothing else', async () => {
    const { ctx, connection, messages } = recording(`deployr-runnable\ndeployr-version 3.11.2\ndeployr-marker ${JSON.stringify(markerOf(fingerprint))}\n`);
    expect(await ensureVenv(ctx, settings, target)).toEqual({ venv: '/srv/app/shared/venv', status: 'unchanged' });
    expect(connection.commands).toHaveLength(3);
    expect(connection.commands[2]).toBe(
      'rm -rf -- /srv/app/releases/7/.venv && mkdir -p -- /srv/app/releases/7 && ln -s -- ../../shared/venv /srv/app/releases/7/.venv',
    );
    expect(messages).toEqual(['venv shared/venv: unchanged']);
  });

  it('created: venv, pip in the release, then marker and link in one command', async () => {
    const { ctx, connection, messages } = recording('');
    expect(await ensureVenv(ctx, settings, target)).toEqual({ venv: '/srv/app/shared/venv', status: 'created' });
    expect(connection.commands.slice(2)).toEqual([
      'rm -rf -- /srv/app/shared/venv && mkdir -p -- /srv/app/shared && python3 -m venv /srv/app/shared/venv',
      'cd /srv/app/releases/7 && /srv/app/shared/venv/bin/python -m pip install --disable-pip-version-check --no-input --progress-bar off --no-index --find-links wheels -r requirements.txt',
      `printf '%s\\n' '${JSON.stringify(markerOf(fingerprint))}' > /srv/app/shared/venv/.deployr-venv.json && rm -rf -- /srv/app/releases/7/.venv && mkdir -p -- /srv/app/releases/7 && ln -s -- ../../shared/venv /srv/app/releases/7/.venv`,
    ]);
    expect(messages).toEqual(['venv shared/venv: created']);
  });

  it('--dry-run: the reads only, and what would change', async () => {
    const old = markerOf({ ...fingerprint, requirements: [{ path: 'requirements.txt', sha256: 'e'.repeat(64) }] });
    const { ctx, connection, messages } = recording(`deployr-runnable\ndeployr-version 3.11.2\ndeployr-marker ${JSON.stringify(old)}\n`);
    expect(await ensureVenv({ ...ctx, dryRun: true }, settings, target)).toMatchObject({ status: 'updated' });
    expect(connection.commands).toHaveLength(2);
    expect(messages).toEqual([
      [
        'would update venv shared/venv',
        '--- shared/venv',
        '+++ shared/venv',
        '@@ -1,3 +1,3 @@',
        ' python 3.11.2 (/usr/bin/python3.11)',
        '-requirements requirements.txt sha256:eeeeeeeeeeee',
        '+requirements requirements.txt sha256:ffffffffffff',
        ' pip --no-index --find-links wheels',
      ].join('\n'),
    ]);
  });

  it('a missing interpreter and a missing requirements file say what to do', async () => {
    const noPython = new RecordingConnection('h1').respond('deployr-python-exit', { stdout: 'deployr-python-exit 127\n', stderr: 'sh: 1: python3.12: not found\n' });
    const log: Logger = { info: () => undefined, debug: () => undefined, warn: () => undefined };
    const ctx = { host: new Host(noPython), log, dryRun: false, signal: new AbortController().signal };
    await expect(ensureVenv(ctx, settingsOf({ python: 'python3.12' }), target)).rejects.toMatchObject({
      message: 'cannot run python3.12: sh: 1: python3.12: not found',
      host: 'h1',
      hint: expect.stringContaining('install Python on the host'),
    });
    const noFile = new RecordingConnection('h1').respond('deployr-python-exit', { stdout: `deployr-python ${JSON.stringify(python)}\ndeployr-python-exit 0\ndeployr-release\nmissing\n` });
    await expect(ensureVenv({ ...ctx, host: new Host(noFile) }, settings, target)).rejects.toMatchObject({
      message: 'requirements file "requirements.txt" not found in the release (/srv/app/releases/7)',
    });
  });
});

describe('venv(ctx)', () => {
  it('runs in the release with the venv active; asks which venv when there are several', () => {
    const connection = new RecordingConnection('h1');
    const shared = {};
    const run = venvRun(shared);
    run.configured.set('venv', settingsOf({}));
    run.deployTo.set('h1', '/srv/app');
    const ctx = { host: new Host(connection), shared, environment: { deployTo: '/srv/app' }, target: { name: 'h1' } } as unknown as TaskContext;
    void venv(ctx).exec('python manage.py migrate');
    expect(connection.commands).toEqual([
      'cd /srv/app/current && VIRTUAL_ENV=$(cd /srv/app/current/.venv && pwd -P) && export VIRTUAL_ENV && PATH="$VIRTUAL_ENV/bin:$PATH" && export PATH && unset PYTHONHOME && python manage.py migrate',
    ]);
    run.configured.set('tools', settingsOf({ name: 'tools', scope: 'shared' }));
    expect(() => venv(ctx)).toThrow("this config has 2 virtualenvs (venv, tools); say which: venv(ctx, '<name>')");
    void venv(ctx, 'tools').exec('black --check .');
    expect(connection.commands[1]).toContain('VIRTUAL_ENV=$(cd /srv/app/shared/tools && pwd -P)');
    expect(() => venv({ ...ctx, target: { name: 'h9' } } as unknown as TaskContext, 'tools')).toThrow('venv(ctx): virtualenv "tools" is not on h9');
  });
});

describe('a bad config through the CLI', () => {
  it('exits 2 naming the plugin before touching any host', async () => {
    const dir = tempProject({
      'deploy.config.ts': `import { defineConfig } from 'deployr';
import { virtualenv } from 'deployr/plugins/virtualenv';
export default defineConfig({
  app: 'x',
  deployTo: '/nonexistent/venv-bad',
  plugins: [virtualenv({ scope: 'global', requirements: ['/etc/requirements.txt'] } as never)],
  environments: { prod: { hosts: ['deploy@192.0.2.1'] } },
});
`,
    });
    writeFileSync(path.join(dir, 'package.json'), '{ "name": "bad", "private": true }\n');
    const { code, stderr } = await cli(['deploy', 'prod', '--yes'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('Plugin deployr:virtualenv has 2 problems');
  });
});

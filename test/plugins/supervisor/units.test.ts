// deployr:supervisor without hosts: the program file (exact text, and read
// back the way supervisor reads it), option errors, command builders, status
// parsing, and what the plugin runs on a host, by exact command, through a
// RecordingConnection.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Host, RecordingConnection, type ResolvedEnvironment, type TaskContext } from '../../../core/index.js';
import { environmentLine, escapePercent, quoteWord } from '../../../plugins/supervisor/ini.js';
import { supervisor } from '../../../plugins/supervisor/index.js';
import { optionsSchema, type ResolvedOptions, type SupervisorOptions } from '../../../plugins/supervisor/options.js';
import { ProgramSteps } from '../../../plugins/supervisor/program.js';
import { renderProgram, allLogFiles } from '../../../plugins/supervisor/render.js';
import { RunStates } from '../../../plugins/supervisor/run-state.js';
import { parseStatus, verdict } from '../../../plugins/supervisor/status.js';
import { runsHere } from '../../../plugins/supervisor/strategies.js';
import { tailLines } from '../../../plugins/supervisor/tasks.js';
import * as commands from '../../../plugins/supervisor/commands.js';
import { listOptions, validateOptions } from '../../../core/config/schema/index.js';

const resolve = (options: SupervisorOptions): ResolvedOptions => validateOptions(optionsSchema, options, 'deployr:supervisor');
const problems = (options: unknown): string => {
  try {
    supervisor(options as SupervisorOptions);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the options to be refused');
};

const shop = resolve({ program: 'shop', command: ['/usr/bin/node', 'server.js', '--title', "Bob's shop"], environment: { PORT: 8080, NODE_ENV: 'production' } });
const host = { directory: '/srv/shop/current', user: 'deploy', environment: { HOME: '/home/deploy', USER: 'deploy', PORT: '8080', NODE_ENV: 'production' } };

describe('the program file', () => {
  it('has every setting, user values escaped, in a fixed order', () => {
    expect(renderProgram(shop, host)).toBe(
      [
        '; Written by deployr:supervisor on every deploy: changes made here are replaced.',
        '[program:shop]',
        "command=/usr/bin/node server.js --title 'Bob'\\''s shop'",
        'directory=/srv/shop/current',
        'user=deploy',
        'autostart=true',
        'autorestart=true',
        'startsecs=1',
        'startretries=3',
        'stopsignal=TERM',
        'stopwaitsecs=10',
        'stopasgroup=true',
        'killasgroup=true',
        'stdout_logfile=/var/log/supervisor/shop.out.log',
        'stderr_logfile=/var/log/supervisor/shop.err.log',
        'environment=HOME="/home/deploy",USER="deploy",PORT="8080",NODE_ENV="production"',
        '',
      ].join('\n'),
    );
  });

  it('names several processes and their logs with supervisor\'s own expansion, and writes extra settings after the rest', () => {
    const options = resolve({
      program: 'worker',
      command: 'celery -A proj worker --concurrency=100%',
      numprocs: 3,
      autorestart: 'unexpected',
      startsecs: 5,
      stopsignal: 'INT',
      logDir: '/var/log/100%/',
      extra: { priority: 50, umask: '022' },
    });
    expect(renderProgram(options, { directory: '/srv/w/current', user: 'celery', environment: {} })).toBe(
      [
        '; Written by deployr:supervisor on every deploy: changes made here are replaced.',
        '[program:worker]',
        'command=celery -A proj worker --concurrency=100%%',
        'directory=/srv/w/current',
        'user=celery',
        'numprocs=3',
        'process_name=%(program_name)s_%(process_num)02d',
        'autostart=true',
        'autorestart=unexpected',
        'startsecs=5',
        'startretries=3',
        'stopsignal=INT',
        'stopwaitsecs=10',
        'stopasgroup=true',
        'killasgroup=true',
        'stdout_logfile=/var/log/100%%/worker_%(process_num)02d.out.log',
        'stderr_logfile=/var/log/100%%/worker_%(process_num)02d.err.log',
        'priority=50',
        'umask=022',
        '',
      ].join('\n'),
    );
    expect(allLogFiles(options)).toEqual([
      '/var/log/100%/worker_00.err.log',
      '/var/log/100%/worker_00.out.log',
      '/var/log/100%/worker_01.err.log',
      '/var/log/100%/worker_01.out.log',
      '/var/log/100%/worker_02.err.log',
      '/var/log/100%/worker_02.out.log',
    ]);
  });

  it('reads back as written through the parsers supervisor uses (configparser, % expansion, shlex)', () => {
    const hostile = ["it's", 'a "b" c', '100%', '$HOME', '`id`', 'semi;colon', 'tab\there', '', 'ünï'];
    const environment = { A: 'x, y = z', B: 'tab\there,  two spaces', C: '100% %(ENV_HOME)s', D: 'say "hi", ok', E: "it's", F: '' };
    const options = resolve({ program: 'p', command: ['/bin/echo', ...hostile], environment });
    const text = renderProgram(options, { directory: '/srv/a b/100%/current', user: 'deploy', environment });
    expect(readBySupervisor(text)).toEqual({ command: ['/bin/echo', ...hostile], environment, directory: '/srv/a b/100%/current' });
  });

  it('escapes % and quotes only what needs it', () => {
    expect(escapePercent('100% %(x)s')).toBe('100%% %%(x)s');
    expect(quoteWord('server.js')).toBe('server.js');
    expect(quoteWord('--port=8080')).toBe('--port=8080');
    expect(quoteWord('a b')).toBe("'a b'");
    expect(quoteWord("it's")).toBe("'it'\\''s'");
    expect(quoteWord('')).toBe("''");
    expect(environmentLine({ A: 'plain', B: 'say "hi"', C: '50%' })).toBe(`A="plain",B='say "hi"',C="50%%"`);
  });
});

/**
 * Supervisor 4.2's reading of a [program:p] section, with the standard
 * library pieces it uses: RawConfigParser with inline comments (options.py
 * UnhosedConfigParser), `%` expansion (options.py expand), shlex.split for
 * the command (process.py) and datatypes.py's dict_of_key_value_pairs,
 * copied here, for the environment.
 */
function readBySupervisor(text: string): { command: string[]; environment: Record<string, string>; directory: string } {
  const script = `
import configparser, json, shlex, sys
parser = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)
parser.read_string(sys.stdin.read())
section = parser['program:p']
expansions = {'program_name': 'p', 'group_name': 'p', 'process_num': 0, 'numprocs': 1, 'here': '/etc/supervisor/conf.d', 'host_node_name': 'h', 'ENV_HOME': '/root'}
def dict_of_key_value_pairs(arg):
    lexer = shlex.shlex(str(arg))
    lexer.wordchars += '/.+-():'
    tokens = list(lexer)
    D = {}
    i = 0
    while i < len(tokens):
        k_eq_v = tokens[i:i+3]
        if len(k_eq_v) != 3 or k_eq_v[1] != '=':
            raise ValueError("Unexpected end of key/value pairs in value '%s'" % arg)
        D[k_eq_v[0]] = k_eq_v[2].strip('\\'"')
        i += 4
    return D
print(json.dumps({
    'command': shlex.split(section['command'] % expansions),
    'environment': dict_of_key_value_pairs(section['environment'] % expansions),
    'directory': section['directory'] % expansions,
}))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: text, encoding: 'utf8' })) as ReturnType<typeof readBySupervisor>;
}

describe('options', () => {
  it('lists every problem at once, with the option and what to write instead', () => {
    expect(
      problems({
        program: 'my app',
        command: 'python3 app.py ; rm -rf /',
        user: 'Root!',
        numprocs: 0,
        environment: { 'BAD-NAME': 'x', OK: 'line\nbreak', Q: '"quoted"', R: `both ' and "` },
        restart: 'rollin',
        extra: { command: 'x', Priority: 1 },
        logDir: 'logs',
        stopsignal: 'SIGTERM',
        waitTimeout: 0,
        bogus: 1,
      }),
    ).toBe(
      [
        'Plugin deployr:supervisor has 15 problems:',
        '  options.program: "my app" is not a safe program name: use letters, digits, _ . - (at most 64, starting with a letter or digit), e.g. "web"',
        '  options.command: command cannot contain " ;" or " #": supervisor\'s ini files read them as the start of a comment, and cannot escape them',
        '  options.user: "Root!" is not a user name (lowercase letters, digits, _ and -)',
        '  options.numprocs: expected an integer from 1 to 100, got 0',
        '  options.environment.BAD-NAME: "BAD-NAME" is not an environment variable name (letters, digits and _, not starting with a digit)',
        "  options.environment.OK: an environment value must be one line: supervisor's ini files have no escape for line breaks",
        '  options.environment.Q: an environment value cannot start or end with a quote character: supervisor strips them',
        `  options.environment.R: an environment value cannot hold both ' and ": supervisor has no escape for quotes there`,
        "  options.restart: expected 'switch', 'stop-start', 'rolling' or 'none', got \"rollin\" — did you mean 'rolling'?",
        '  options.extra.command: "command" is set by its own option; use that instead',
        '  options.extra.Priority: "Priority" is not a supervisor setting name (lowercase letters and _)',
        '  options.logDir: logDir must be an absolute path, got "logs"',
        "  options.stopsignal: write the signal without SIG: 'TERM'",
        '  options.waitTimeout: expected a positive number ≤ 3600, got 0',
        '  options.bogus: unknown key (known keys: program, command, directory, user, environment, numprocs, autostart, autorestart, startsecs, startretries, stopsignal, stopwaitsecs, stopasgroup, killasgroup, logDir, extra, confFile, service, install, restart, waitTimeout, roles)',
      ].join('\n'),
    );
  });

  it('refuses what no escaping survives, and a missing program or command', () => {
    expect(problems({})).toBe(
      ['Plugin deployr:supervisor has 2 problems:', '  options.program: missing — expected a string', '  options.command: missing — expected a command line or a list of its words'].join('\n'),
    );
    expect(problems({ program: 'a:b', command: [] })).toContain('options.command: the command needs at least the program to run');
    expect(problems({ program: 'ok', command: ['/bin/sh', '-c', 'x\ny'] })).toContain('options.command[2]: a command word must be one line');
    expect(problems({ program: 'ok', command: ' node app.js' })).toContain('options.command: command cannot start or end with spaces');
    expect(problems({ program: 'ok', command: 'x', directory: 'current #1' })).toContain('options.directory: directory cannot contain " ;" or " #"');
    expect(problems({ program: 'ok', command: 'x', confFile: 'conf.d/ok.conf' })).toContain('options.confFile: confFile must be an absolute path');
    expect(problems({ program: 'ok', command: 'x', environment: 'PORT=1' })).toContain(
      'options.environment: expected an object of variables, or a function of the host context returning one, got "PORT=1"',
    );
  });

  it('fills in defaults', () => {
    expect(resolve({ program: 'web', command: 'x' })).toEqual({
      program: 'web',
      command: 'x',
      directory: 'current',
      numprocs: 1,
      autostart: true,
      autorestart: true,
      startsecs: 1,
      startretries: 3,
      stopsignal: 'TERM',
      stopwaitsecs: 10,
      stopasgroup: true,
      killasgroup: true,
      logDir: '/var/log/supervisor',
      install: true,
      restart: 'switch',
      waitTimeout: 60,
    });
    expect(supervisor({ program: 'web', command: 'x' }).name).toBe('deployr:supervisor');
  });

  it("the README's options table is the one options.ts declares", () => {
    const readme = readFileSync(new URL('../../../plugins/supervisor/README.md', import.meta.url), 'utf8');
    const table = readme.split('<!-- options table:')[1]?.split('\n\n')[0]?.split('\n').slice(1) ?? [];
    const rows = listOptions(optionsSchema).map((row) => {
      const shown = row.required ? 'required' : row.default === undefined ? '' : `\`${JSON.stringify(row.default)}\``;
      return `| \`${row.path}\` | ${row.type} | ${shown} | ${row.description ?? ''} |`;
    });
    expect(table).toEqual(['| option | type | default | |', '| --- | --- | --- | --- |', ...rows.filter((row) => !/^\| `[^`]*[.[]/.test(row))]);
  });

  it('runs on hosts with one of its roles, or on all', () => {
    expect(runsHere({ roles: ['app', 'web'] }, ['app'])).toBe(true);
    expect(runsHere({ roles: ['db'] }, ['app'])).toBe(false);
    expect(runsHere({ roles: [] }, undefined)).toBe(true);
  });
});

describe('commands', () => {
  it('are exact, with every value quoted', () => {
    expect(commands.statusCommand('web').display()).toBe("supervisorctl status 'web:*'");
    expect(commands.startCommand('web').display()).toBe("supervisorctl start 'web:*'");
    expect(commands.stopCommand('web').display()).toBe("supervisorctl stop 'web:*'");
    expect(commands.restartCommand('web').display()).toBe("supervisorctl restart 'web:*'");
    expect(commands.updateCommand('web', '/var/log/my logs').display()).toBe("mkdir -p -- '/var/log/my logs' && supervisorctl reread && supervisorctl update web");
    expect(commands.pidCommand().display()).toBe('supervisorctl pid');
    expect(commands.tailCommand(['/var/log/supervisor/web.err.log', '/var/log/supervisor/web.out.log'], 50).display()).toBe(
      'tail -n 50 -- /var/log/supervisor/web.err.log /var/log/supervisor/web.out.log',
    );
    expect(commands.removeFileCommand('/etc/supervisor/conf.d/web.conf').display()).toBe('rm -f -- /etc/supervisor/conf.d/web.conf');
    expect(commands.startServiceCommand('supervisor').display()).toBe(
      "if test -d /run/systemd/system; then systemctl enable --now supervisor; elif command -v service >/dev/null 2>&1; then service supervisor start; elif command -v rc-service >/dev/null 2>&1; then rc-update add supervisor default && rc-service supervisor start; else echo 'no systemd, service(8) or rc-service to start supervisor with' >&2; exit 127; fi",
    );
  });

  it('supervisor:tail takes one line count', () => {
    expect(tailLines([])).toBe(100);
    expect(tailLines(['50'])).toBe(50);
    for (const bad of [['0'], ['-5'], ['ten'], ['5', '6'], ['1e3'], ['100001']]) expect(() => tailLines(bad), bad.join(' ')).toThrow(/supervisor:tail takes one argument, a number of lines from 1 to 100000/);
  });
});

describe('supervisorctl status', () => {
  it('is parsed per process; errors are not processes', () => {
    const output = [
      'web:web_00                       RUNNING   pid 24829, uptime 0:00:02',
      'web:web_01                       BACKOFF   Exited too quickly (process log may have details)',
      'web:web_02                       STARTING  ',
      'other: ERROR (no such group)',
      '',
    ].join('\n');
    expect(parseStatus(output)).toEqual([
      { name: 'web:web_00', state: 'RUNNING', description: 'pid 24829, uptime 0:00:02' },
      { name: 'web:web_01', state: 'BACKOFF', description: 'Exited too quickly (process log may have details)' },
      { name: 'web:web_02', state: 'STARTING', description: '' },
    ]);
  });

  it('decides: running once every process is RUNNING, failed at the first BACKOFF/FATAL/EXITED/STOPPED, else pending', () => {
    const p = (state: string) => ({ name: 'web', state, description: '' });
    expect(verdict([p('RUNNING')], 1)).toEqual({ kind: 'running' });
    expect(verdict([p('RUNNING')], 2)).toEqual({ kind: 'pending' });
    expect(verdict([p('STARTING'), p('RUNNING')], 2)).toEqual({ kind: 'pending' });
    for (const state of ['BACKOFF', 'FATAL', 'EXITED', 'STOPPED']) expect(verdict([p('RUNNING'), p(state)], 2)).toEqual({ kind: 'failed', process: p(state) });
    expect(verdict([], 1)).toEqual({ kind: 'pending' });
  });
});

describe('on a host (RecordingConnection)', () => {
  const OS = 'ID=debian\nVERSION_ID="12"\n';
  const CONF = '/etc/supervisor/conf.d/shop.conf';
  const sudo = (command: string) => `sudo -n -H -- sh -c ${`'${command.replaceAll("'", `'\\''`)}'`}`;
  const rendered = renderProgram(shop, { ...host, directory: '/srv/shop/current' });

  function context(connection: RecordingConnection, dryRun = false) {
    const logged: string[] = [];
    const environment = { name: 'prod', deployTo: '/srv/shop' } as ResolvedEnvironment;
    const ctx = {
      host: new Host(connection),
      target: { name: 'web-1', address: '10.0.0.1', user: 'deploy', roles: ['app'], vars: {}, ssh: {}, disabled: false },
      roles: ['app'],
      vars: {},
      shared: {},
      environment,
      log: { info: (message: string) => void logged.push(message), debug: () => undefined, warn: (message: string) => void logged.push(`warn: ${message}`) },
      signal: new AbortController().signal,
      dryRun,
      args: [],
      runId: 'run',
      params: {},
      task: 'deploy:switch',
    } as unknown as TaskContext;
    return { ctx, logged };
  }

  function recording(conf: string | undefined, status: string) {
    const connection = new RecordingConnection('web-1');
    connection.respond('/etc/os-release', { stdout: OS });
    connection.respond('id -un', { stdout: 'deploy\n/home/deploy\n' });
    connection.respond('%a %U %G', conf === undefined ? { code: 3 } : { stdout: `644 root root\n${conf}` });
    connection.respond('then cat --', conf === undefined ? { code: 3 } : { stdout: conf });
    connection.respond('supervisorctl status', { stdout: status, code: status.includes('ERROR') ? 4 : 0 });
    return connection;
  }

  const facts = [`cat /etc/os-release`, `id -un && printf '%s\\n' "$HOME"`];
  // One read of the program file: syncFile's, which also gives back the old text for going back.
  const reads = [sudo(`if test -e ${CONF}; then stat -L -c '%a %U %G' ${CONF} && cat -- ${CONF}; else exit 3; fi`)];

  it('an unchanged program file: no reread/update, a restart, a wait for RUNNING', async () => {
    const connection = recording(rendered, 'shop                RUNNING   pid 7, uptime 0:00:01\n');
    const { ctx, logged } = context(connection);
    await new ProgramSteps(shop, new RunStates()).apply(ctx, 'restart', 'switch', { remember: true });
    expect(connection.commands).toEqual([...facts, ...reads, sudo("supervisorctl status 'shop:*'"), sudo("supervisorctl restart 'shop:*'"), sudo("supervisorctl status 'shop:*'")]);
    expect(logged).toEqual([`${CONF}: unchanged`, 'shop: RUNNING']);
  });

  it('a changed file is written, loaded with reread + update, then started; the old text is kept for going back', async () => {
    const connection = recording(rendered.replace('startsecs=1', 'startsecs=9'), 'shop                RUNNING   pid 7, uptime 0:00:01\n');
    const { ctx, logged } = context(connection);
    const states = new RunStates();
    await new ProgramSteps(shop, states).apply(ctx, 'restart', 'switch', { remember: true });
    const written = connection.commands.slice(3, 5);
    expect(written[0]).toMatch(/^sudo -n -H -- sh -c 'umask 077 && mode=.* && cat > \/etc\/supervisor\/conf.d\/shop.conf.deployr-[0-9a-f]{8} && chmod "\$mode" /);
    expect(written[1]).toMatch(/mv -f \/etc\/supervisor\/conf.d\/shop.conf.deployr-[0-9a-f]{8} \/etc\/supervisor\/conf.d\/shop.conf'$/);
    expect(connection.commands.slice(5)).toEqual([
      sudo('mkdir -p -- /var/log/supervisor && supervisorctl reread && supervisorctl update shop'),
      sudo("supervisorctl start 'shop:*'"),
      sudo("supervisorctl status 'shop:*'"),
    ]);
    expect(logged[0]).toBe(`${CONF}: updated\n--- ${CONF}\n+++ ${CONF}\n@@ -5,7 +5,7 @@\n user=deploy\n autostart=true\n autorestart=true\n-startsecs=9\n+startsecs=1\n startretries=3\n stopsignal=TERM\n stopwaitsecs=10`);
    expect(states.host(ctx.shared, 'web-1')).toMatchObject({ previousConf: rendered.replace('startsecs=1', 'startsecs=9'), touched: true });
  });

  it('a program supervisord does not know yet is loaded even when its file is unchanged', async () => {
    const connection = recording(rendered, 'shop: ERROR (no such group)\n');
    connection.respond('supervisorctl update', { stdout: 'shop: added process group\n' });
    const { ctx } = context(connection);
    // The status that follows still says "no such group": the wait reports it instead of waiting a minute.
    await expect(new ProgramSteps(shop, new RunStates()).apply(ctx, 'restart', 'switch', { remember: false })).rejects.toThrow(
      "cannot read the state of program shop on web-1: shop: ERROR (no such group)",
    );
    expect(connection.commands.slice(3)).toEqual([
      sudo("supervisorctl status 'shop:*'"),
      sudo('mkdir -p -- /var/log/supervisor && supervisorctl reread && supervisorctl update shop'),
      sudo("supervisorctl start 'shop:*'"),
      sudo("supervisorctl status 'shop:*'"),
    ]);
  });

  it('a program that does not stay up fails with its state, host and the end of its logs', async () => {
    const connection = recording(rendered, 'shop                FATAL     Exited too quickly (process log may have details)\n');
    connection.respond('tail -n 15', { stdout: '==> /var/log/supervisor/shop.err.log <==\nError: EADDRINUSE 8080\n' });
    const { ctx } = context(connection);
    const failure = new ProgramSteps(shop, new RunStates()).apply(ctx, 'restart', 'switch', { remember: false });
    await expect(failure).rejects.toMatchObject({
      host: 'web-1',
      message: [
        'program shop did not start on web-1: FATAL (Exited too quickly (process log may have details))',
        'last lines of its logs:',
        '  │ ==> /var/log/supervisor/shop.err.log <==',
        '  │ Error: EADDRINUSE 8080',
      ].join('\n'),
      hint: expect.stringContaining('switches every host back to the previous release'),
    });
    expect(connection.commands.at(-1)).toBe(sudo('tail -n 15 -- /var/log/supervisor/shop.err.log /var/log/supervisor/shop.out.log'));
  });

  it("restart: 'none' with an unchanged file runs nothing but reads", async () => {
    const connection = recording(rendered, 'shop                RUNNING   pid 7, uptime 0:00:01\n');
    const { ctx } = context(connection);
    await new ProgramSteps(shop, new RunStates()).apply(ctx, 'none', 'switch', { remember: true });
    expect(connection.commands).toEqual([...facts, ...reads, sudo("supervisorctl status 'shop:*'")]);
  });

  it('going back after a deploy that added the program removes it again', async () => {
    const connection = recording(undefined, 'shop                RUNNING   pid 7, uptime 0:00:01\n');
    const { ctx, logged } = context(connection);
    const steps = new ProgramSteps(shop, new RunStates());
    await steps.apply(ctx, 'restart', 'switch', { remember: true });
    expect(steps.state(ctx)).toMatchObject({ previousConf: null, touched: true });
    const before = connection.commands.length;
    await steps.restore(ctx, true);
    expect(connection.commands.slice(before)).toEqual([sudo(`rm -f -- ${CONF}`), sudo('mkdir -p -- /var/log/supervisor && supervisorctl reread && supervisorctl update shop')]);
    expect(logged.at(-1)).toBe(`${CONF}: removed (shop was new in the failed deploy)`);
  });

  it('installs supervisor and starts supervisord only when missing; under --dry-run only says so', async () => {
    const connection = new RecordingConnection('web-1');
    connection.respond('/etc/os-release', { stdout: OS });
    connection.respond('id -un', { stdout: 'deploy\n/home/deploy\n' });
    connection.respond('dpkg-query', { stdout: 'supervisor\n' });
    connection.respond('supervisorctl pid', { code: 7, stdout: 'unix:///var/run/supervisor.sock no such file\n' });
    const { ctx, logged } = context(connection, true);
    await new ProgramSteps(shop, new RunStates()).ensureSupervisord(ctx);
    expect(connection.commands.slice(2)).toEqual([
      `for p in supervisor; do dpkg-query -W -f='\${Status}\\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"; done`,
      sudo('supervisorctl pid'),
      sudo(commands.startServiceCommand('supervisor').display()),
    ]);
    expect(logged).toEqual(['would install package supervisor', 'would start supervisor']);
  });
});

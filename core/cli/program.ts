import { Command } from 'commander';
import { execCommand } from './commands/exec.js';
import { listCommand } from './commands/list.js';
import { releaseCommand, type ReleaseOptions } from './commands/release.js';
import { statusCommand } from './commands/status.js';
import { sshCommand } from './commands/ssh.js';
import { taskCommand } from './commands/task.js';
import { packageInfo } from '../util/package-info.js';
import { smoke } from './smoke.js';
import { configOption, hostOptions, lockWaitOption, type HostOptions } from './options.js';

const pkg = packageInfo();

const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    a task failed on at least one host
  2    usage or config error (nothing was run)
  3    a host could not be reached, authenticated or trusted
  4    another run holds the deploy lock (see --lock-wait, deployr unlock)
  130  interrupted (Ctrl-C or SIGTERM)`;

/**
 * The command line. Each action resolves to an exit code; bin.ts sets it.
 * `deployr <task> <env>` is the root command's own action, so any task —
 * built-in, a plugin's or yours — runs the same way.
 */
export function createProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('deployr')
    .description('Deploy apps to your own servers with typed TypeScript tasks over SSH')
    .version(pkg.version)
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .addHelpText('after', `\nExamples:\n  deployr deploy prod\n  deployr list prod\n  deployr run prod --roles web -- uptime\n  deployr ssh prod web-1\n${EXIT_CODES_HELP}`);

  hostOptions(
    program
      .argument('[task]', 'the task to run, e.g. deploy')
      .argument('[env]', 'the environment, e.g. prod')
      .argument('[args...]', 'passed to the task as ctx.args'),
  ).action(async (task: string | undefined, env: string | undefined, args: string[], options: HostOptions) => {
    if (task === undefined && env === undefined) {
      program.outputHelp();
      return;
    }
    setExitCode(await taskCommand(task, env, args, options));
  });

  lockWaitOption(
    hostOptions(program.command('deploy').description('ship a new release to every selected host (two-phase: no host switches unless all are ready)').argument('<env>', 'the environment')),
  ).action(async (env: string, options: ReleaseOptions) => setExitCode(await releaseCommand('deploy', env, options)));

  lockWaitOption(
    hostOptions(
      program
        .command('rollback')
        .description('switch every selected host back to the same earlier release')
        .argument('<env>', 'the environment')
        .option('--to <release>', 'the release id to go back to (default: the one before the newest current)'),
    ),
  ).action(async (env: string, options: ReleaseOptions) => setExitCode(await releaseCommand('rollback', env, options)));

  hostOptions(program.command('status').description("each host's current release, its releases, drift between hosts, and the lock holder").argument('<env>', 'the environment'))
    .action(async (env: string, options: HostOptions) => setExitCode(await statusCommand(env, options)));

  hostOptions(program.command('unlock').description('remove a stale deploy lock (a crashed run\'s) and say whose it was').argument('<env>', 'the environment'))
    .action(async (env: string, options: HostOptions) => setExitCode(await taskCommand('unlock', env, [], options)));

  configOption(program.command('list').argument('[env]', 'show this environment\'s hosts').description('list tasks, plugins and environments (or one environment\'s hosts)'))
    .option('--json', 'print it as JSON')
    .action(async (env: string | undefined, options: HostOptions) => setExitCode(await listCommand(env, options)));

  for (const mode of ['run', 'sudo'] as const) {
    hostOptions(
      program
        .command(mode)
        .description(mode === 'run' ? 'run a shell command on every selected host' : 'run a shell command as root (sudo) on every selected host')
        .argument('<env>', 'the environment')
        .argument('[command...]', 'the command, after --'),
    ).action(async (env: string, words: string[], options: HostOptions) => setExitCode(await execCommand(mode, env, words, options)));
  }

  configOption(
    program
      .command('ssh')
      .description('open a shell on a host (the first selected one by default), or run one command after --')
      .argument('<env>', 'the environment')
      .argument('[host]', 'the host\'s name')
      .argument('[command...]', 'a command to run instead of a shell'),
  ).action(async (env: string, host: string | undefined, words: string[], options: HostOptions) => setExitCode(await sshCommand(env, host, words, options)));

  program
    .command('smoke')
    .description('check the local transport on this machine (no servers needed)')
    .action(async () => {
      await smoke((line) => console.log(line));
    });

  return program;
}

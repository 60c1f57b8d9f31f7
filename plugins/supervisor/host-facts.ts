// What the program file and the commands need to know about one host, read
// there (read-only commands: they run under --dry-run too).
import { posix } from 'node:path';
import { cmd, ConfigValidationError, DeployrError, detectOs, raw, releaseOf, type Issue, type OsInfo, type PackageManager, type TaskContext } from 'deployr';
import { environmentValueProblem, valueProblem } from './ini.js';
import { environmentValues, type ResolvedOptions } from './options.js';
import type { ProgramHost } from './render.js';

export interface HostFacts {
  readonly os: OsInfo;
  /** Where the program file goes on this host. */
  readonly confFile: string;
  /** supervisord's service name on this host. */
  readonly service: string;
  readonly program: ProgramHost;
}

/** Where each family's supervisord.conf includes program files from, and its service's name. */
const LAYOUT: Record<PackageManager, { confFile: (program: string) => string; service: string }> = {
  apt: { confFile: (program) => `/etc/supervisor/conf.d/${program}.conf`, service: 'supervisor' },
  dnf: { confFile: (program) => `/etc/supervisord.d/${program}.ini`, service: 'supervisord' },
  apk: { confFile: (program) => `/etc/supervisor.d/${program}.ini`, service: 'supervisord' },
};

export function defaultConfFile(manager: PackageManager, program: string): string {
  return LAYOUT[manager].confFile(program);
}

export function defaultService(manager: PackageManager): string {
  return LAYOUT[manager].service;
}

export async function readHostFacts(ctx: TaskContext, options: ResolvedOptions): Promise<HostFacts> {
  const [os, login] = await Promise.all([detectOs(ctx.host, ctx.signal), loginAccount(ctx)]);
  const user = options.user ?? login.user;
  const home = user === login.user ? login.home : await homeOf(ctx, user);
  const directory = posix.isAbsolute(options.directory) ? options.directory : posix.join(await deployToOf(ctx, login.home), options.directory);
  const environment = { HOME: home, USER: user, ...environmentFor(ctx, options) };
  check(ctx.target.name, [
    ['directory', valueProblem(directory, 'the directory')],
    ['user', valueProblem(user, 'the user name')],
    ...Object.entries(environment).map(([key, value]): [string, string | undefined] => [`environment.${key}`, environmentValueProblem(value)]),
  ]);
  return {
    os,
    confFile: options.confFile ?? defaultConfFile(os.packageManager, options.program),
    service: options.service ?? defaultService(os.packageManager),
    program: { directory, user, environment },
  };
}

async function loginAccount(ctx: TaskContext): Promise<{ user: string; home: string }> {
  const result = await ctx.host.exec(cmd`id -un && printf '%s\\n' "$HOME"`, { readOnly: true, quiet: true, signal: ctx.signal });
  const [user = '', home = ''] = result.stdout.split('\n');
  return { user, home };
}

async function homeOf(ctx: TaskContext, user: string): Promise<string> {
  const result = await ctx.host.exec(cmd`getent passwd ${user}`, { readOnly: true, quiet: true, nothrow: true, signal: ctx.signal });
  const home = result.stdout.split('\n')[0]?.split(':')[5];
  if (!result.ok || !home) {
    throw new DeployrError(`user "${user}" does not exist on ${ctx.target.name}, so supervisord cannot run the program as it`, {
      host: ctx.target.name,
      hint: 'create the user first (e.g. in a predeploy hook or with deployr:bootstrap), or set the user option to one that exists',
    });
  }
  return home;
}

/**
 * deployTo as an absolute path: supervisord starts programs from `/`, while
 * release commands run from the login user's home, where a relative deployTo
 * (or `~/app`, `~user/app`) starts.
 */
async function deployToOf(ctx: TaskContext, loginHome: string): Promise<string> {
  const deployTo = releaseOf(ctx)?.deployTo ?? ctx.environment.deployTo;
  if (!deployTo) {
    throw new DeployrError(`environment "${ctx.environment.name}" has no deployTo, so the program has no directory`, {
      hint: 'set deployTo in deploy.config.ts, or give the supervisor plugin an absolute directory',
    });
  }
  const tilde = /^~([a-z_][a-z0-9_-]*)?(?=\/|$)/.exec(deployTo);
  if (posix.isAbsolute(deployTo)) return posix.normalize(deployTo);
  if (!tilde) return posix.join(loginHome, deployTo);
  const base = tilde[1] === undefined ? loginHome : await homeOfTilde(ctx, tilde[1]);
  return posix.join(base, deployTo.slice(tilde[0].length));
}

async function homeOfTilde(ctx: TaskContext, user: string): Promise<string> {
  // The name matched [a-z_][a-z0-9_-]*: safe bare, and bare is what lets the shell expand it.
  const result = await ctx.host.exec(cmd`cd ${raw(`~${user}`)} && pwd`, { readOnly: true, quiet: true, signal: ctx.signal });
  return result.stdout.trim();
}

/** The environment option's values for this host, as strings (a function is called and its result checked here). */
function environmentFor(ctx: TaskContext, options: ResolvedOptions): Record<string, string> {
  const given = typeof options.environment === 'function' ? options.environment(ctx) : (options.environment ?? {});
  if (typeof options.environment === 'function') {
    const issues: Issue[] = [];
    environmentValues.check(given, 'environment(ctx)', issues);
    if (issues.length > 0) {
      throw new ConfigValidationError(`The environment function of deployr:supervisor on ${ctx.target.name}`, issues, {
        hint: 'return an object of variable names to strings, numbers or booleans',
      });
    }
  }
  return Object.fromEntries(Object.entries(given).map(([key, value]) => [key, String(value)]));
}

function check(host: string, problems: ReadonlyArray<[string, string | undefined]>): void {
  const issues = problems.flatMap(([path, message]) => (message === undefined ? [] : [{ path, message }]));
  if (issues.length > 0) {
    throw new ConfigValidationError(`The supervisor program file for ${host}`, issues, { hint: 'change the option (or the host value) it names' });
  }
}

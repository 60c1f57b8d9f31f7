import { s, type Schema, type TaskContext } from 'deployr';
import { environmentValueProblem, valueProblem, wordProblem } from './ini.js';

/** When the plugin restarts the program during a deploy (and after a rollback). */
export type RestartStrategy = 'switch' | 'stop-start' | 'rolling' | 'none';

export type EnvironmentValues = Readonly<Record<string, string | number | boolean>>;

/** What `supervisor({ … })` accepts. Each option is described once, in `optionsSchema` below. */
export interface SupervisorOptions {
  program: string;
  command: string | readonly string[];
  directory?: string;
  user?: string;
  environment?: EnvironmentValues | ((ctx: TaskContext) => EnvironmentValues);
  numprocs?: number;
  autostart?: boolean;
  autorestart?: boolean | 'unexpected';
  startsecs?: number;
  startretries?: number;
  stopsignal?: StopSignal;
  stopwaitsecs?: number;
  stopasgroup?: boolean;
  killasgroup?: boolean;
  logDir?: string;
  extra?: Readonly<Record<string, string | number | boolean>>;
  confFile?: string;
  service?: string;
  install?: boolean;
  restart?: RestartStrategy;
  waitTimeout?: number;
  roles?: readonly string[];
}

export const STOP_SIGNALS = ['TERM', 'HUP', 'INT', 'QUIT', 'KILL', 'USR1', 'USR2'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Letters, digits, `_ . -`: safe in a section name, a file name, and `<program>:*` for supervisorctl. */
export const PROGRAM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A POSIX login name (useradd's rules, plus the `$` of machine accounts). */
export const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}\$?$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;
const EXTRA_KEY = /^[a-z][a-z_]*$/;

/** Keys the plugin writes itself: `extra` may not set them, or the file would say two things. */
export const MANAGED_KEYS = [
  'command',
  'directory',
  'user',
  'numprocs',
  'process_name',
  'autostart',
  'autorestart',
  'startsecs',
  'startretries',
  'stopsignal',
  'stopwaitsecs',
  'stopasgroup',
  'killasgroup',
  'stdout_logfile',
  'stderr_logfile',
  'environment',
] as const;

const line = (what: string) => s.string({ nonEmpty: true }).refine((value) => valueProblem(value, what));
const absolutePath = (what: string) => line(what).refine((path) => (path.startsWith('/') ? undefined : `${what} must be an absolute path, got "${path}"`));

const commandWords = s.array(s.string().refine((word) => wordProblem(word))).refine((words) => (words.length === 0 ? 'the command needs at least the program to run' : undefined));

export const environmentValues = s.record(
  s.union([s.string().refine(environmentValueProblem), s.number(), s.boolean()], { expected: 'a string, number or boolean' }),
  { key: s.string().refine((name) => (ENV_NAME.test(name) ? undefined : `"${name}" is not an environment variable name (letters, digits and _, not starting with a digit)`)) },
);

export const optionsSchema = s.object({
  program: s
    .string()
    .refine((name) => (PROGRAM_NAME.test(name) ? undefined : `"${name}" is not a safe program name: use letters, digits, _ . - (at most 64, starting with a letter or digit), e.g. "web"`))
    .describe('Program name in supervisord: `[program:<name>]`, `supervisorctl status <name>:*`, `<name>.conf`.'),
  command: s
    .union([line('command'), commandWords], { expected: 'a command line or a list of its words' })
    .describe('What to run, e.g. `/usr/bin/python3 server.py`. A string is split by supervisor (no shell); a list has each word quoted. Use an absolute path or a program on PATH.'),
  directory: line('directory').default('current').describe("Working directory; relative to deployTo on the host, so the default runs the current release."),
  user: s
    .string()
    .refine((name) => (USER_NAME.test(name) ? undefined : `"${name}" is not a user name (lowercase letters, digits, _ and -)`))
    .optional()
    .describe('User the program runs as. Default: the login user. HOME and USER are set for it unless `environment` sets them.'),
  environment: s
    .union([environmentValues, s.custom<(ctx: TaskContext) => EnvironmentValues>((value) => typeof value === 'function', 'a function')], { expected: 'an object of variables, or a function of the host context returning one' })
    .optional()
    .describe('Variables for the program: `{ PORT: 8080 }`, or `(ctx) => ({ … })` for values per host (e.g. from ctx.vars).'),
  numprocs: s.number({ integer: true, min: 1, max: 100 }).default(1).describe('Processes to run; more than one are named `<program>_00`, `<program>_01`…'),
  autostart: s.boolean().default(true).describe('Start the program when supervisord starts.'),
  autorestart: s.union([s.boolean(), s.literal('unexpected')], { expected: "true, false or 'unexpected'" }).default(true).describe("Restart it when it exits: always, never, or 'unexpected' exit codes only."),
  startsecs: s.number({ integer: true, min: 0, max: 3600 }).default(1).describe('Seconds it must stay up to count as started (RUNNING).'),
  startretries: s.number({ integer: true, min: 0, max: 100 }).default(3).describe('Attempts to start before supervisor gives up (FATAL).'),
  stopsignal: s
    .oneOf(...STOP_SIGNALS)
    .whenMismatched((value) => (typeof value === 'string' && STOP_SIGNALS.includes(value.replace(/^SIG/, '') as StopSignal) ? `write the signal without SIG: '${value.replace(/^SIG/, '')}'` : undefined))
    .default('TERM')
    .describe('Signal that asks it to stop.'),
  stopwaitsecs: s.number({ integer: true, min: 0, max: 3600 }).default(10).describe('Seconds to wait after stopsignal before SIGKILL.'),
  stopasgroup: s.boolean().default(true).describe('Send stopsignal to its whole process group (children of a shell script too).'),
  killasgroup: s.boolean().default(true).describe('Send SIGKILL to its whole process group.'),
  logDir: absolutePath('logDir').default('/var/log/supervisor').describe('Where `<program>.out.log` and `<program>.err.log` go.'),
  extra: s
    .record(s.union([line('value'), s.number(), s.boolean()], { expected: 'a string, number or boolean' }), {
      key: s.string().refine((key) =>
        !EXTRA_KEY.test(key)
          ? `"${key}" is not a supervisor setting name (lowercase letters and _)`
          : (MANAGED_KEYS as readonly string[]).includes(key)
            ? `"${key}" is set by its own option; use that instead`
            : undefined,
      ),
    })
    .optional()
    .describe("More `[program:x]` settings, checked and escaped like the rest: `{ priority: 100, umask: '022' }`."),
  confFile: absolutePath('confFile')
    .refine((path) => (/\/$/.test(path) ? 'confFile is a file path, not a directory' : undefined))
    .optional()
    .describe('Where the program file goes. Default: `/etc/supervisor/conf.d/<program>.conf` (Debian/Ubuntu), `/etc/supervisord.d/<program>.ini` (RHEL/Fedora), `/etc/supervisor.d/<program>.ini` (Alpine).'),
  service: s
    .string()
    .refine((name) => (SERVICE_NAME.test(name) ? undefined : `"${name}" is not a service name`))
    .optional()
    .describe("supervisord's service: `supervisor` on Debian/Ubuntu, `supervisord` elsewhere."),
  install: s.boolean().default(true).describe('Install supervisor with the package manager when it is missing and start supervisord when it is not running; false: fail instead.'),
  restart: s
    .oneOf('switch', 'stop-start', 'rolling', 'none')
    .default('switch')
    .describe("'switch': restart on each host right after it switches (a failed start switches every host back); 'stop-start': stop before the switch, start after; 'rolling': one host at a time after every host switched; 'none': never (a changed program file is still loaded, which restarts it)."),
  waitTimeout: s.number({ positive: true, max: 3600 }).default(60).describe('Seconds (on top of startsecs) to wait for the program to be RUNNING before failing.'),
  roles: s.array(s.string({ nonEmpty: true })).optional().describe('Only hosts with one of these roles run the program. Default: every host.'),
} satisfies Record<keyof SupervisorOptions, Schema<unknown>>);

/** The options after validation, defaults filled in. */
export interface ResolvedOptions {
  readonly program: string;
  readonly command: string | readonly string[];
  readonly directory: string;
  readonly user?: string;
  readonly environment?: EnvironmentValues | ((ctx: TaskContext) => EnvironmentValues);
  readonly numprocs: number;
  readonly autostart: boolean;
  readonly autorestart: boolean | 'unexpected';
  readonly startsecs: number;
  readonly startretries: number;
  readonly stopsignal: StopSignal;
  readonly stopwaitsecs: number;
  readonly stopasgroup: boolean;
  readonly killasgroup: boolean;
  readonly logDir: string;
  readonly extra?: Readonly<Record<string, string | number | boolean>>;
  readonly confFile?: string;
  readonly service?: string;
  readonly install: boolean;
  readonly restart: RestartStrategy;
  readonly waitTimeout: number;
  readonly roles?: readonly string[];
}

import { parseHostString } from '../connection/ssh/parse-target.js';
import { isDeployrError } from '../errors.js';
import { HOOK_NAMES } from '../engine/hooks.js';
import { isComposition, type TaskOptions } from '../engine/task.js';
import { DEFAULT_CONCURRENCY, DEFAULT_KEEP_RELEASES } from './resolved.js';
import { s, type Schema } from './schema/index.js';
import { sshSchema } from './ssh-schema.js';
import type { DeployrConfig, EnvironmentConfig, HostConfig, ReleaseSettings, SharedSettings } from './types.js';

export { HOOK_NAMES };

/** Names typed on the command line (`deployr deploy prod`, `deployr run prod db:migrate`). */
const commandLineName = (what: string, example: string): Schema<string> =>
  s.string().refine((name) => (/\s/.test(name) || name === '' ? `${what} names cannot be empty or contain spaces; use e.g. '${example}'` : undefined));

const hostString = s.string().refine((spec) => {
  try {
    parseHostString(spec, 'host');
    return undefined;
  } catch (error) {
    if (!isDeployrError(error)) throw error;
    const message = error.message.replace(/^host: /, '');
    return error.hint ? `${message} (${error.hint})` : message;
  }
});

const hostObject = s.object({
  name: s.string({ nonEmpty: true }).optional().describe('Name in output, logs, --hosts and errors. Default: the address.'),
  address: s.string({ nonEmpty: true }).describe('Host name, IP address or ~/.ssh/config alias.'),
  user: s.string({ nonEmpty: true }).optional().describe('Login user.'),
  port: s.number({ integer: true, min: 1, max: 65535 }).optional().describe('SSH port.'),
  roles: s.array(s.string({ nonEmpty: true })).optional().describe('Roles select which tasks run here.'),
  vars: s.record(s.unknown()).optional().describe('Variables for this host only.'),
  ssh: sshSchema.describe("SSH settings for this host; they win over the environment's and the config's."),
  disabled: s.boolean().optional().describe('Keep the host in the config but never select it.'),
} satisfies Record<keyof HostConfig, Schema<unknown>>);

const hostEntry = s.union([hostString, hostObject], { expected: "a host string like 'user@host:port' or a host object { address }" });

const commands = s.union([s.string({ nonEmpty: true }), s.array(s.string({ nonEmpty: true }))], { expected: 'a command or a list of commands' });

const sharedPath = s.string({ nonEmpty: true }).refine((path) =>
  path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '.')
    ? `'${path}' must be a plain relative path inside the release, like '.env' or 'storage/'`
    : undefined,
);

const releaseSchema = s.object({
  source: s.string({ nonEmpty: true }).optional().describe("Directory to ship, relative to the config file. Default: the project; .gitignore and .deployrignore apply."),
  buildLocally: commands.optional().describe('Commands run on this machine once before shipping, e.g. `npm run build`.'),
  ignore: s.array(s.string({ nonEmpty: true })).optional().describe('More ignore patterns (.gitignore syntax), relative to `source`.'),
  shared: s.array(sharedPath).optional().describe("Paths kept in `<deployTo>/shared` across releases, e.g. ['.env', 'storage/']."),
  build: commands.optional().describe("Commands run in the new release on each host before any host switches, e.g. 'npm ci --omit=dev'."),
} satisfies Record<keyof ReleaseSettings, Schema<unknown>>);

const sharedShape = {
  deployTo: s.string({ nonEmpty: true }).optional().describe('Where releases live on each host.'),
  keepReleases: s.number({ integer: true, min: 1 }).optional().describe(`How many releases to keep on each host. Default ${DEFAULT_KEEP_RELEASES}.`),
  concurrency: s.number({ integer: true, min: 1 }).optional().describe(`How many hosts work at once. Default ${DEFAULT_CONCURRENCY}.`),
  ssh: sshSchema.describe('SSH settings for every host.'),
  vars: s.record(s.unknown()).optional().describe('Variables for tasks, merged key by key: the more specific level wins.'),
  commandTimeout: s.number({ positive: true }).optional().describe('Default timeout for each command, in seconds. Default: none.'),
  sudoPassword: s.secret().optional().describe('Password for sudo on hosts without NOPASSWD; read it from process.env, never commit it.'),
  release: releaseSchema.optional().describe('What a deploy ships and builds: source, ignore rules, shared paths, build commands.'),
} satisfies Record<keyof SharedSettings, Schema<unknown>>;

export const environmentSchema = s.object({
  ...sharedShape,
  extends: s.string({ nonEmpty: true }).optional().describe('Another environment whose settings and hosts this one starts from.'),
  hosts: s.array(hostEntry).optional().describe('The hosts of this environment. Inherited from `extends` unless set.'),
  connect: s.oneOf('ssh', 'local').optional().describe("'local' runs every command on this machine. Default 'ssh'."),
  confirm: s
    .union([s.boolean(), s.string({ nonEmpty: true })], { expected: 'true, false or the question to ask' })
    .optional()
    .describe('Ask before running (true, or the question to ask).'),
  description: s.string().optional().describe('A line shown in `deployr list`.'),
} satisfies Record<keyof EnvironmentConfig, Schema<unknown>>);

const composition = s.custom((v) => isComposition(v), 'series()/parallel()');
const taskRef = s.union([s.string({ nonEmpty: true }), s.function(), composition], { expected: 'a task name, a function or series()/parallel()' });

const taskObject = s.object({
  run: taskRef.describe('What the task does.'),
  description: s.string().optional().describe('One line shown by `deployr list`.'),
  roles: s.array(s.string({ nonEmpty: true })).optional().describe('Run only on hosts with one of these roles.'),
  once: s.boolean().optional().describe('Run once per run instead of on every host.'),
  local: s.boolean().optional().describe('Run once, on this machine.'),
  timeout: s.number({ positive: true }).optional().describe('Stop the task on a host after this many seconds.'),
} satisfies Record<keyof TaskOptions | 'run', Schema<unknown>>);

const taskEntry = s.union([s.string({ nonEmpty: true }), s.function(), composition, taskObject], {
  expected: 'a task name, a function, series()/parallel() or { run, … }',
});

const plugin = s
  .object({ name: s.string({ nonEmpty: true }), apply: s.function() }, { unknownKeys: 'allow' })
  // `plugins: [supervisor]` instead of `[supervisor()]` is the usual slip.
  .whenMismatched((v) => (typeof v === 'function' ? `got a function; call it: ${v.name || 'plugin'}()` : undefined));

const hooks = s.object(Object.fromEntries(HOOK_NAMES.map((name) => [name, s.function().optional()])));

/** The whole of deploy.config.ts, declared once: validation and the options reference come from here. */
export const configSchema = s.object({
  ...sharedShape,
  app: s.string({ nonEmpty: true }).describe("The application's name: used in release manifests, lock files and output."),
  environments: s.record(environmentSchema, { key: commandLineName('environment', 'prod-eu') }).describe('Every environment you deploy to, by name.'),
  plugins: s.array(plugin).optional().describe('Plugins, applied in order: `plugins: [supervisor({ … })]`.'),
  tasks: s.record(taskEntry, { key: commandLineName('task', 'db:migrate') }).optional().describe('Your tasks by name.'),
  hooks: hooks.optional().describe('Hook taps for this project, e.g. `hooks: { postdeploy: async (ctx) => … }`.'),
  before: s.record(s.union([taskRef, s.array(taskRef)], { expected: 'a task or a list of tasks' })).optional().describe("Tasks to run before others: `{ 'deploy:switch': 'db:migrate' }`."),
  after: s.record(s.union([taskRef, s.array(taskRef)], { expected: 'a task or a list of tasks' })).optional().describe("Tasks to run after others: `{ 'deploy:postdeploy': 'notify' }`."),
  logDir: s.string({ nonEmpty: true }).optional().describe('Where per-host run logs go, relative to the config file. Default `.deployr/logs`.'),
} satisfies Record<keyof DeployrConfig, Schema<unknown>>);

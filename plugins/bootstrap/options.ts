import { ConfigError, missingPackagesCommand, s, type Infer } from 'deployr';
import { keyLineProblem, looksLikeKeyLine, nameProblem, shellProblem, sudoersFileProblem, sudoersRuleProblem } from './validate.js';

const name = () => s.string().refine(nameProblem);

/** The package commands' own rule, so a bad name is reported here, at the call, not on a host. */
function packageProblem(name: string): string | undefined {
  try {
    missingPackagesCommand('apt', [name]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Every option, declared once: type, default and description (the README's table is checked against it). */
export const optionsSchema = s.object({
  deployUser: name().default('deploy').describe('the user deploys log in as: created with a home and a login shell, gets the keys and the sudo rules'),
  runUser: name()
    .optional()
    .describe("the app's own user, which runs it (hostout's effective-user): a system user without login whose primary group is `group`; default: the config's `app`"),
  group: name().optional().describe("the group both users share, which owns deployTo; default: the config's `app`"),
  authorizedKeys: s
    .array(s.string({ nonEmpty: true }).refine((entry) => (looksLikeKeyLine(entry) ? keyLineProblem(entry) : undefined)))
    .default([])
    .describe('public keys that may log in as deployUser: key lines (`ssh-ed25519 AAAA… alice@laptop`) or local files of them (`~/.ssh/id_ed25519.pub`, relative to the config)'),
  exclusiveKeys: s.boolean().default(false).describe("authorized_keys holds exactly authorizedKeys, other keys are removed (default: they are added, other lines kept)"),
  sudoers: s
    .array(s.string().refine(sudoersRuleProblem))
    .optional()
    .describe('the lines of the sudoers drop-in, checked with visudo before it is put in place; default: `<deployUser> ALL=(ALL) NOPASSWD: ALL`; `[]` writes none'),
  sudoersFile: s.string().refine(sudoersFileProblem).optional().describe('its name in /etc/sudoers.d; default: deployUser'),
  shell: s.string().refine(shellProblem).default('/bin/sh').describe("deployUser's login shell, for a new user (deployr needs a POSIX shell)"),
  python: s.boolean().default(true).describe('install Python 3 (python3, and python3-venv on apt hosts)'),
  packages: s.array(s.string({ nonEmpty: true }).refine(packageProblem)).default([]).describe('more packages to install, by their names in the host\'s package manager'),
  deployToMode: s
    .number({ integer: true, min: 0, max: 0o7777 })
    .default(0o2755)
    .describe('mode of deployTo (default 0o2755: only deployUser writes, new files get `group`, the run user reads)'),
  roles: s.array(s.string({ nonEmpty: true })).optional().describe('bootstrap only hosts with one of these roles (default: every host)'),
  beforeFirstDeploy: s.boolean().default(false).describe('`deploy` bootstraps, before it takes the lock, each host where deployTo does not exist yet'),
});

/** What bootstrap() takes: every option may be left out. */
export type BootstrapOptions = Partial<Infer<typeof optionsSchema>>;
/** The options once validated, with their defaults filled in. */
export type ResolvedOptions = Infer<typeof optionsSchema>;

/** The options with every default settled: what the steps work from. */
export interface BootstrapPlan {
  readonly deployUser: string;
  readonly runUser: string;
  readonly group: string;
  /** Key lines and local key files, as given. */
  readonly authorizedKeys: readonly string[];
  readonly exclusiveKeys: boolean;
  readonly sudoers: readonly string[];
  readonly sudoersFile: string;
  readonly shell: string;
  readonly python: boolean;
  readonly packages: readonly string[];
  readonly deployToMode: number;
}

/** What no single option can say is wrong: deployUser, runUser and group must play distinct parts. */
export function conflicts(deployUser: string, runUser: string | undefined, group: string | undefined): string[] {
  const problems: string[] = [];
  if (runUser === deployUser) problems.push(`runUser and deployUser are both "${runUser}": the app should not run as the user that deploys it`);
  if (group === deployUser) problems.push(`group "${group}" is also deployUser's name, which a new user's own group takes; choose another group name`);
  return problems;
}

/**
 * Settles the defaults that depend on the config (runUser and group default
 * to its `app`), with the checks that need them settled.
 */
export function planOf(options: ResolvedOptions, app: string): BootstrapPlan {
  const runUser = options.runUser ?? app;
  const group = options.group ?? app;
  const problems: string[] = [];
  for (const [key, value] of [['runUser', runUser], ['group', group]] as const) {
    const problem = options[key] === undefined ? nameProblem(value) : undefined;
    if (problem) problems.push(`${key} defaults to the config's app, but ${problem}; set ${key}`);
  }
  problems.push(...conflicts(options.deployUser, runUser, group));
  if (problems.length > 0) {
    throw new ConfigError(`deployr:bootstrap: ${problems.join('; ')}`, { hint: 'fix the options passed to bootstrap() in your deploy config' });
  }
  return {
    deployUser: options.deployUser,
    runUser,
    group,
    authorizedKeys: options.authorizedKeys,
    exclusiveKeys: options.exclusiveKeys,
    sudoers: options.sudoers ?? [`${options.deployUser} ALL=(ALL) NOPASSWD: ALL`],
    sudoersFile: options.sudoersFile ?? options.deployUser,
    shell: options.shell,
    python: options.python,
    packages: options.packages,
    deployToMode: options.deployToMode,
  };
}

import { ConfigValidationError, s, validateOptions, type ConfigIssue, type Infer } from 'deployr';

export const NAME = 'deployr:git';

const refRule = (value: string): string | undefined => {
  if (value.startsWith('-')) return `"${value}" starts with '-': git would read it as an option`;
  if (/[\s\p{Cc}]/u.test(value)) return `"${value}" holds whitespace or a control character, which no git ref can`;
  return undefined;
};

const hostPathRule = (value: string): string | undefined => {
  if (!value.startsWith('/') && !value.startsWith('~/')) return `"${value}" must be absolute or start with ~/ (a path on each host)`;
  // ssh reads `-o UserKnownHostsFile=…` as a config line: whitespace would split it into several files.
  if (/\s/.test(value)) return `"${value}" holds whitespace, which ssh's -o options cannot carry`;
  return undefined;
};

const subdirRule = (value: string): string | undefined => {
  if (value.startsWith('/')) return `"${value}" must be relative to the repository`;
  if (normalizeSubdir(value).split('/').includes('..')) return `"${value}" must stay inside the repository (no '..')`;
  return undefined;
};

const urlRule = (value: string): string | undefined => {
  if (value.startsWith('-')) return `"${value}" starts with '-': git would read it as an option`;
  if (/[\s\p{Cc}]/u.test(value)) return `"${value}" holds whitespace or a control character`;
  return undefined;
};

const mirrorRule = (value: string): string | undefined =>
  value.startsWith('~') ? `"${value}" must be absolute or relative to deployTo (git does not expand ~ in --git-dir)` : undefined;

/** Every option, declared once: type, default (in the description where it depends on the strategy) and what it does. */
export const optionsSchema = s.object({
  strategy: s
    .oneOf('archive', 'remote')
    .default('archive')
    .describe("'archive': export the commit on this machine and upload it (hosts need no git access); 'remote': each host fetches into its own mirror and exports the commit"),
  ref: s
    .string({ nonEmpty: true })
    .refine(refRule)
    .optional()
    .describe("branch, tag or commit to deploy. archive: anything `git rev-parse` takes, default the checked-out commit; remote: a branch, a tag, HEAD or a full commit id, default the remote's HEAD"),
  repo: s.string({ nonEmpty: true }).optional().describe('archive: a directory in the local work tree whose committed content is shipped; default the project root (the config\'s directory)'),
  subdir: s.string({ nonEmpty: true }).refine(subdirRule).optional().describe('ship only this directory of the commit (relative to repo for archive, to the repository root for remote)'),
  allowDirty: s.boolean().default(false).describe('archive: deploy even when the work tree has uncommitted changes (they are not shipped: git archive ships the commit)'),
  url: s.string({ nonEmpty: true }).refine(urlRule).optional().describe("remote (required): the repository URL the hosts clone, e.g. 'git@github.com:me/app.git'"),
  mirror: s.string({ nonEmpty: true }).refine(mirrorRule).optional().describe("remote: where each host keeps its mirror, relative to deployTo or absolute; default 'repo'"),
  sshKey: s.string({ nonEmpty: true }).refine(hostPathRule).optional().describe('remote: private key on each host for the repository (a deploy key), absolute or ~/'),
  knownHostsFile: s.string({ nonEmpty: true }).refine(hostPathRule).optional().describe("remote: known_hosts file on each host holding the repository host's key, absolute or ~/; default ssh's own"),
  resolveOn: s.oneOf('host', 'local').optional().describe("remote: where the ref is turned into a commit id, once per deploy: 'host' (the first host, default) or 'local' (this machine's git and ssh)"),
});

type Declared = Infer<typeof optionsSchema>;
type Common = Pick<Declared, 'ref' | 'subdir'>;

/** What git() takes: the schema's options, with the strategy deciding which apply (checked at run time too, for plain JS configs). */
export type GitPluginOptions =
  | (Common & Pick<Declared, 'repo'> & { strategy?: 'archive'; allowDirty?: boolean })
  | (Common & Pick<Declared, 'mirror' | 'sshKey' | 'knownHostsFile' | 'resolveOn'> & { strategy: 'remote'; url: string });

export interface ArchiveOptions {
  readonly strategy: 'archive';
  readonly ref?: string;
  readonly repo?: string;
  /** Normalized: no leading './', no trailing '/'. */
  readonly subdir?: string;
  readonly allowDirty: boolean;
}

export interface RemoteOptions {
  readonly strategy: 'remote';
  readonly url: string;
  readonly ref: string;
  readonly subdir?: string;
  readonly mirror: string;
  readonly sshKey?: string;
  readonly knownHostsFile?: string;
  readonly resolveOn: 'host' | 'local';
}

export type GitOptions = ArchiveOptions | RemoteOptions;

const ONLY_REMOTE = ['url', 'mirror', 'sshKey', 'knownHostsFile', 'resolveOn'] as const;
const ONLY_ARCHIVE = ['repo', 'allowDirty'] as const;
const HINT = `fix the options passed to git() (${NAME}) in your deploy config`;

/**
 * Checks the options (every problem at once, each with its path) and
 * returns them per strategy with defaults filled in. Throws a
 * ConfigValidationError, as the config itself does.
 */
export function parseOptions(input: unknown): GitOptions {
  const crossIssues = crossFieldIssues(input);
  let options: Declared;
  try {
    options = validateOptions(optionsSchema, input, NAME);
  } catch (error) {
    if (error instanceof ConfigValidationError && crossIssues.length > 0) {
      throw new ConfigValidationError(`Plugin ${NAME}`, [...error.issues, ...crossIssues], { hint: HINT });
    }
    throw error;
  }
  if (crossIssues.length > 0) throw new ConfigValidationError(`Plugin ${NAME}`, crossIssues, { hint: HINT });
  const subdir = options.subdir === undefined ? undefined : normalizeSubdir(options.subdir);
  const withSubdir = subdir ? { subdir } : {};
  if (options.strategy === 'remote') {
    return {
      strategy: 'remote',
      url: options.url as string,
      ref: options.ref ?? 'HEAD',
      mirror: (options.mirror ?? 'repo').replace(/(.)\/+$/, '$1'),
      resolveOn: options.resolveOn ?? 'host',
      ...withSubdir,
      ...(options.sshKey === undefined ? {} : { sshKey: options.sshKey }),
      ...(options.knownHostsFile === undefined ? {} : { knownHostsFile: options.knownHostsFile }),
    };
  }
  return {
    strategy: 'archive',
    allowDirty: options.allowDirty ?? false,
    ...withSubdir,
    ...(options.ref === undefined ? {} : { ref: options.ref }),
    ...(options.repo === undefined ? {} : { repo: options.repo }),
  };
}

/** Options that belong to the other strategy, and remote's required url: checked on the raw input so they are reported with the rest. */
function crossFieldIssues(input: unknown): ConfigIssue[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const given = input as Record<string, unknown>;
  const strategy = given['strategy'] ?? 'archive';
  const issues: ConfigIssue[] = [];
  if (strategy === 'remote') {
    if (given['url'] === undefined) issues.push({ path: 'options.url', message: "missing — strategy 'remote' needs the repository URL the hosts clone, e.g. 'git@github.com:me/app.git'" });
    for (const key of ONLY_ARCHIVE) {
      if (given[key] !== undefined) issues.push({ path: `options.${key}`, message: "only used by strategy 'archive' (this machine's work tree); remove it" });
    }
  } else if (strategy === 'archive') {
    for (const key of ONLY_REMOTE) {
      if (given[key] !== undefined) issues.push({ path: `options.${key}`, message: "only used by strategy 'remote' — set strategy: 'remote', or remove it" });
    }
  }
  return issues;
}

/** 'app/', './app', 'app//web/' → 'app', 'app', 'app/web'; '.' → ''. */
export function normalizeSubdir(value: string): string {
  return value
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

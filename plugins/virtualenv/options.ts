import { s, validateOptions, type Infer } from 'deployr';

export const PLUGIN_NAME = 'deployr:virtualenv';
/** The venv's name unless told otherwise; a venv of another name makes a plugin named `deployr:virtualenv:<name>`. */
export const DEFAULT_NAME = 'venv';

/** A path inside the release: relative, never climbing out of it, never read as an option. */
function releasePathProblem(what: string, path: string): string | undefined {
  if (path.startsWith('/') || path.startsWith('~')) return `${what} must be relative to the release, e.g. "requirements.txt", got "${path}"`;
  if (path.split('/').includes('..')) return `${what} must stay inside the release (no ".."), got "${path}"`;
  if (path.startsWith('-')) return `${what} must not start with "-", got "${path}"`;
  return undefined;
}

const releasePath = (what: string) => s.string({ nonEmpty: true }).refine((path) => releasePathProblem(what, path));

/** pip options that have an option of their own here, so the hash and --dry-run know about them. */
const OWN_OPTIONS: ReadonlyArray<[RegExp, string]> = [
  [/^(-i|--index-url)(=|$)/, 'indexUrl'],
  [/^--no-index$/, 'noIndex: true'],
  [/^(-f|--find-links)(=|$)/, 'findLinks'],
  [/^(-r|--requirement)(=|$)/, 'requirements'],
];

export const optionsSchema = s.object({
  python: s
    .string({ nonEmpty: true })
    .refine((python) => (/^[A-Za-z0-9_.+/-]+$/.test(python) && !python.startsWith('-') ? undefined : `expected a program name or an absolute path such as "python3.12" or "/usr/bin/python3", got "${python}"`))
    .default('python3')
    .describe('the interpreter that makes the venv (`<python> -m venv`): a program on the PATH of the login shell, or an absolute path'),
  requirements: s.array(releasePath('a requirements file')).default([]).describe('requirements files to install (`pip install -r`), relative to the release; their contents are hashed'),
  packages: s
    .array(s.string({ nonEmpty: true }).refine((spec) => (spec.startsWith('-') ? `"${spec}" is a pip option, not a package: put it in pipArgs` : undefined)))
    .default([])
    .describe("more requirements to install, as pip writes them: 'gunicorn==22.0.0'"),
  scope: s
    .oneOf('release', 'shared')
    .default('release')
    .describe("'release': a venv per set of requirements, linked into each release (rollback keeps its own); 'shared': one venv updated in place"),
  name: s
    .string()
    .refine((name) => (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ? undefined : `expected a name of letters, digits, ".", "_" and "-", got "${name}"`))
    .default(DEFAULT_NAME)
    .describe('names this venv: `shared/<name>` (shared scope), `shared/venvs/<name>/<hash>` (release scope); another name than `venv` makes the plugin `deployr:virtualenv:<name>`, and `venv(ctx, name)` finds it'),
  dir: releasePath('dir').default('.venv').describe('where each release sees its venv: a symlink at `<release>/<dir>`'),
  indexUrl: s
    .secret()
    .refine((url) => (typeof url !== 'string' || /^(https?|file):\/\/\S+$/.test(url) ? undefined : `expected an http(s):// or file:// URL, got "${url}"`))
    .optional()
    .describe("package index (`pip --index-url`), secret('…') when it holds a token; default: pip's own (PyPI, or pip.conf)"),
  findLinks: s
    .array(s.secret().refine((link) => (typeof link === 'string' && (link === '' || link.startsWith('-')) ? `expected a URL or a directory, got "${link}"` : undefined)))
    .default([])
    .describe('more places to look for packages (`pip --find-links`): URLs, or directories (relative ones to the release)'),
  noIndex: s.boolean().default(false).describe('install only from findLinks (`pip --no-index`), never from an index'),
  pipArgs: s
    .array(
      s.secret().refine((arg) => {
        if (typeof arg !== 'string') return undefined;
        if (arg === '') return 'expected a non-empty string, got ""';
        const own = OWN_OPTIONS.find(([pattern]) => pattern.test(arg));
        return own ? `"${arg}" has an option of its own: use ${own[1]}` : undefined;
      }),
    )
    .default([])
    .describe("more arguments for `pip install`, e.g. ['--prefer-binary']; part of the hash (a secret('…') as ***)"),
  roles: s.array(s.string({ nonEmpty: true })).optional().describe('only hosts with one of these roles; default: every host'),
}).refine((options) => {
  if (options.noIndex && options.indexUrl !== undefined) return 'noIndex and indexUrl contradict each other: drop one';
  if (options.noIndex && options.findLinks.length === 0 && (options.packages.length > 0 || options.requirements.length > 0)) {
    return 'noIndex leaves pip nowhere to find packages: add findLinks (e.g. a wheels/ directory in the release)';
  }
  return undefined;
});

/** What you pass to virtualenv(). */
export type VirtualenvOptions = Partial<Infer<typeof optionsSchema>>;

/** The options with every default filled in. */
export type VirtualenvSettings = Infer<typeof optionsSchema>;

/** Checks the options (every problem at once, as a ConfigValidationError) and fills in defaults. */
export function settingsOf(options: VirtualenvOptions | undefined): VirtualenvSettings {
  return validateOptions(optionsSchema, options ?? {}, PLUGIN_NAME);
}

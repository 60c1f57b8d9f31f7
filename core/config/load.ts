import { stat } from 'node:fs/promises';
import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { ConfigError } from '../errors.js';
import { displayPath } from './display-path.js';
import { importConfigFile, loadError } from './import-config-file.js';
import type { ConfigEnv, DeployrConfig } from './types.js';
import { validateConfig } from './validate.js';

export interface LoadConfigOptions {
  /** Where the search starts. Default: process.cwd(). */
  cwd?: string;
  /** Load exactly this file (`--config`), relative to cwd; no search. */
  configFile?: string;
  /** Given to a config that exports a function: `({ environment }) => …`. */
  environment?: string;
}

export interface LoadedConfig {
  config: DeployrConfig;
  /** Problems that do not stop a run, e.g. a task role no host has. */
  warnings: string[];
  /** Absolute path of the config file. */
  file: string;
  /** The config file's directory: relative paths in the config are relative to it. */
  root: string;
}

const EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];
/** Searched in this order in each directory, from cwd up to the project root (the nearest package.json). */
export const CONFIG_FILE_NAMES = EXTENSIONS.map((ext) => `deploy.config${ext}`);

interface Imported {
  exports: unknown;
}

/**
 * Finds deploy.config.* (or loads the --config file), runs it, calls it with
 * `{ environment }` if it exports a function, and validates the result.
 * Every failure is a ConfigError that names the file and says what to do.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const shown = (file: string) => displayPath(file, cwd);
  const explorer = cosmiconfig('deployr', {
    searchPlaces: CONFIG_FILE_NAMES,
    // From cwd upward, stopping after the directory with the nearest package.json.
    searchStrategy: 'project',
    // An empty deploy.config.ts is found and reported, not skipped in favour of one further up.
    ignoreEmptySearchPlaces: false,
    cache: false,
    // Always an object, so cosmiconfig never reads a module without exports as "no config here".
    loaders: Object.fromEntries(
      EXTENSIONS.map((ext) => [ext, async (file: string, source: string): Promise<Imported> => ({ exports: await importConfigFile(file, source, shown) })]),
    ),
  });

  const result = options.configFile === undefined ? await search(explorer, cwd) : await loadExactly(explorer, path.resolve(cwd, options.configFile));
  const file = result.filepath;
  if (result.isEmpty) {
    throw new ConfigError(`${shown(file)} is empty`, { hint: 'export the config from it: export default defineConfig({ app, environments })' });
  }
  const exported = defaultExport((result.config as Imported).exports, shown(file));
  const value = await evaluate(exported, file, shown, options.environment);
  const { config, warnings } = validateConfig(value, file, {
    cwd,
    ...(typeof exported === 'function' ? { rootLabel: "the config function's result" } : {}),
  });
  return { config, warnings, file, root: path.dirname(file) };
}

type Explorer = ReturnType<typeof cosmiconfig>;
type Found = { filepath: string; config: unknown; isEmpty?: boolean };

async function search(explorer: Explorer, cwd: string): Promise<Found> {
  const found = await explorer.search(cwd);
  if (found === null) {
    const root = await projectRoot(cwd);
    const where = root === undefined ? `${cwd} or its parents` : root === cwd ? cwd : `${cwd} or its parents up to ${root}`;
    const why = root === undefined ? '' : ' (the project root: it has package.json)';
    throw new ConfigError(`No deploy.config.ts found in ${where}${why}`, {
      hint: 'create one (deployr init will scaffold it) or pass --config <file>',
    });
  }
  return found;
}

/** Where the 'project' search strategy stops: the nearest directory with package.json (or package.yaml). */
async function projectRoot(from: string): Promise<string | undefined> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    for (const name of ['package.json', 'package.yaml']) if (await stat(path.join(dir, name)).catch(() => undefined)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

async function loadExactly(explorer: Explorer, file: string): Promise<Found> {
  const info = await stat(file).catch(() => undefined);
  if (info === undefined) throw new ConfigError(`Config file not found: ${file}`, { hint: 'check the path given to --config' });
  if (!info.isFile()) throw new ConfigError(`Config path is not a file: ${file}`, { hint: 'pass the config file itself to --config, e.g. --config deploy/deploy.config.ts' });
  if (!EXTENSIONS.includes(path.extname(file))) {
    throw new ConfigError(`Cannot load ${file}: a config must be a ${EXTENSIONS.join(', ')} file`, { hint: 'rename it, e.g. to deploy.config.ts' });
  }
  const found = await explorer.load(file);
  // cosmiconfig returns null only for a loader result of null, which ours never gives.
  if (found === null) throw new ConfigError(`Could not load ${file}`);
  return found;
}

/**
 * The config a module exports: its default export, or module.exports of a
 * CommonJS file. Named exports alone are a mistake worth naming.
 */
function defaultExport(exports: unknown, shown: string): unknown {
  const isObject = typeof exports === 'object' && exports !== null;
  if (!isObject) return exports;
  const names = Object.keys(exports);
  // Transpiled ES modules carry __esModule; module.exports of a CommonJS file does not.
  // An empty one means nothing was exported at all (a file of comments, say).
  const esModule = Boolean((exports as { __esModule?: unknown }).__esModule);
  if (!esModule && names.length > 0) return exports;
  if (Object.hasOwn(exports, 'default')) return (exports as { default: unknown }).default;
  throw new ConfigError(`${shown} has no default export (${names.length > 0 ? `it exports ${names.join(', ')}` : 'it exports nothing'})`, {
    hint: 'export the config as the default: export default defineConfig({ app, environments })',
  });
}

/** The config itself, or what an exported (possibly async) function returns for the environment. */
async function evaluate(exported: unknown, file: string, display: (file: string) => string, environment: string | undefined): Promise<unknown> {
  try {
    if (typeof exported === 'function') return await (exported as (env: ConfigEnv) => unknown)({ environment });
    // `export default (async () => ({ … }))()` is a promise of the config.
    return await exported;
  } catch (error) {
    throw loadError(error, file, display);
  }
}

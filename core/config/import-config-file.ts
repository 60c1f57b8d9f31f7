import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import { ConfigError, isDeployrError } from '../errors.js';

/**
 * Runs a config file (.ts/.mts/.cts/.js/.mjs/.cjs) through jiti and returns
 * its exports. jiti, not Node, so that a project with no node_modules and no
 * TypeScript still works from npx or a global install: types are stripped,
 * relative `.ts` imports resolve, and `import … from 'deployr'` gets the very
 * module instance this CLI runs (same classes, so `instanceof` and secrets
 * work across the config and the CLI).
 */
export async function importConfigFile(file: string, source: string, display: (file: string) => string): Promise<unknown> {
  const deployr: unknown = await import('../index.js');
  const jiti = createJiti(import.meta.url, {
    // The exact instance, whether we run from dist/ or from the TS sources (vitest, tsx);
    // an alias to our entry file would make jiti load a second copy of the sources.
    virtualModules: { deployr },
    alias: { 'deployr/plugins': fileURLToPath(new URL('../../plugins', import.meta.url)) },
    // A fresh evaluation each load: a config edited between two loads in one process (tests, watch) is re-read.
    moduleCache: false,
    // We read `default` ourselves; jiti's merging proxy would turn a missing default into the whole module.
    interopDefault: false,
  });
  try {
    // Transpiled even when Node could import it natively: a native import would resolve
    // 'deployr' through node_modules (absent in most projects) and be cached for the process.
    return await jiti.evalModule(source, { filename: file, async: true, forceTranspile: true });
  } catch (error) {
    throw loadError(error, file, display);
  }
}

/**
 * A ConfigError for a config that failed to load (syntax error, a throw, a
 * missing import), naming the file and line: `deploy.config.ts:5`.
 * `display` names files in messages.
 */
export function loadError(error: unknown, file: string, display: (file: string) => string): ConfigError {
  const shown = display(file);
  const where = locate(error, file, display);
  const at = where === undefined ? '' : ` (at ${where.place})`;
  if (where?.syntax) {
    return new ConfigError(`Syntax error at ${where.place}: ${where.message}`, {
      hint: `fix the syntax in ${where.file} at line ${where.line}, then run the command again`,
      cause: error,
    });
  }
  if (isDeployrError(error)) {
    // Thrown on purpose with a full message, e.g. a plugin factory's option problems, one per line:
    // keep every line and its own hint, and say where the config made the call.
    return new ConfigError(`${shown} failed to load${at}: ${error.message}`, {
      hint: error.hint ?? (where === undefined ? `fix ${shown}, then run the command again` : `fix ${where.file} at line ${where.line}, then run the command again`),
      cause: error,
    });
  }
  return new ConfigError(`${shown} failed to load: ${summary(error)}${at}`, {
    hint: where === undefined ? `fix ${shown}, then run the command again` : `fix ${where.file} at line ${where.line}, then run the command again`,
    cause: error,
  });
}

interface Location {
  /** 'deploy.config.ts:5', or with the column for a syntax error (the file may be one the config imports). */
  place: string;
  file: string;
  line: number;
  syntax: boolean;
  message: string;
}

// jiti reports a syntax error as 'ParseError: <what> \n <file>:<line>:<column>'.
const PARSE_ERROR = /^(?:ParseError|SyntaxError): (.*?)\s*\n\s*(.+):(\d+):(\d+)\s*$/s;
const FRAME = /\(?((?:file:\/\/)?\/[^():]+|[A-Za-z]:\\[^():]+):(\d+):(\d+)\)?\s*$/;

function locate(error: unknown, configFile: string, display: (file: string) => string): Location | undefined {
  const root = path.dirname(configFile);
  if (!(error instanceof Error)) return undefined;
  const parse = PARSE_ERROR.exec(error.message);
  if (parse) {
    const [, message, file, line, column] = parse as unknown as [string, string, string, string, string];
    return { place: `${display(file)}:${line}:${column}`, file: display(file), line: Number(line), syntax: true, message };
  }
  // The innermost frame in the project's own files: the config, or a helper it imports.
  const frames = (error.stack ?? '').split('\n').slice(1).flatMap((line) => {
    const match = FRAME.exec(line);
    if (!match) return [];
    const file = match[1]?.startsWith('file://') ? fileURLToPath(match[1]) : (match[1] as string);
    return [{ file, line: Number(match[2]) }];
  });
  const inProject = (f: string) => !path.relative(root, f).startsWith('..') && !f.split(path.sep).includes('node_modules');
  const frame = frames.find((f) => inProject(f.file));
  if (frame === undefined) return undefined;
  // Line only: jiti's module wrapper shifts columns on the first line, and the transform may elsewhere.
  return { place: `${display(frame.file)}:${frame.line}`, file: display(frame.file), line: frame.line, syntax: false, message: '' };
}

function summary(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node appends a require stack to module-not-found messages; the first line says it all.
  const first = error.message.split('\n')[0] ?? '';
  return error.name === 'Error' ? first : `${error.name}: ${first}`;
}

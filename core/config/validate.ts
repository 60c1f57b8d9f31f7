import path from 'node:path';
import { ConfigValidationError } from '../errors.js';
import { checkConfigRules } from './config-checks.js';
import { configSchema } from './config-schema.js';
import { displayPath } from './display-path.js';
import type { Issue } from './schema/issue.js';
import type { DeployrConfig } from './types.js';

export interface ValidateConfigOptions {
  /** Directory `file` is shown relative to. Default: process.cwd(). */
  cwd?: string;
  /** How a problem with the value as a whole is labelled. Default 'default export' with a file, else 'config'. */
  rootLabel?: string;
}

/**
 * Checks a whole config and reports every problem at once: throws one
 * ConfigValidationError whose `issues` list each problem with its path.
 * Returns the config and warnings (problems that do not stop a run, such
 * as a task role no host has).
 */
/**
 * Configs that came out of validateConfig, so checking one again (loadConfig,
 * then createDeployr with what it returned) costs nothing.
 */
const validated = new WeakMap<object, { config: DeployrConfig; warnings: string[] }>();

export function validateConfig(value: unknown, file?: string, options: ValidateConfigOptions = {}): { config: DeployrConfig; warnings: string[] } {
  const known = typeof value === 'object' && value !== null ? validated.get(value) : undefined;
  if (known) return known;
  const issues: Issue[] = [];
  const config = configSchema.check(value, '', issues);
  const rules = checkConfigRules(value);
  issues.push(...rules.issues);
  if (issues.length > 0) {
    const shown = file === undefined ? 'The config' : displayPath(file, options.cwd ?? process.cwd());
    throw new ConfigValidationError(shown, issues, {
      rootLabel: options.rootLabel ?? (file === undefined ? 'config' : 'default export'),
      hint: `fix ${issues.length === 1 ? 'it' : 'each one'} in ${file === undefined ? 'the config' : shown}, then run the command again`,
      ...(file === undefined ? {} : { file: path.resolve(options.cwd ?? process.cwd(), file) }),
    });
  }
  const result = { config: config as DeployrConfig, warnings: rules.warnings };
  validated.set(result.config, result);
  return result;
}

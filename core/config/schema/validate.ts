import { ConfigValidationError } from '../../errors.js';
import type { Issue } from './issue.js';
import type { Schema } from './schema.js';

/** Every problem in `value`, and the value with defaults filled in (meaningful only when there are no issues). */
export function validate<T>(schema: Schema<T>, value: unknown): { value: T; issues: Issue[] } {
  const issues: Issue[] = [];
  const result = schema.check(value, '', issues);
  return { value: result as T, issues };
}

/**
 * Checks a plugin's options and returns them with defaults filled in, or
 * throws one ConfigValidationError that lists every problem ("Plugin
 * deployr:supervisor has 2 problems: options.port: …"):
 * `validateOptions(schema, options, 'deployr:supervisor')`.
 */
export function validateOptions<T>(schema: Schema<T>, value: unknown, plugin: string): T {
  const issues: Issue[] = [];
  // Paths start at 'options' so each line reads on its own: "options.port: expected …".
  const result = schema.check(value, 'options', issues);
  if (issues.length > 0) {
    throw new ConfigValidationError(`Plugin ${plugin}`, issues, { hint: `fix the options passed to ${plugin} in your deploy config` });
  }
  return result as T;
}

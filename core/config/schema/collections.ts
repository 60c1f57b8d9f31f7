import { indexPath, keyPath, type Issue } from './issue.js';
import { Schema } from './schema.js';

export class ArraySchema<T> extends Schema<T[]> {
  readonly expected: string;
  constructor(readonly item: Schema<T>) {
    super();
    this.expected = item.expected === 'any value' ? 'a list' : `a list of ${plural(item.expected)}`;
  }
  matches(value: unknown): value is T[] {
    return Array.isArray(value);
  }
  protected checkInside(value: T[], path: string, issues: Issue[]): T[] {
    return value.map((item, index) => this.item.check(item, indexPath(path, index), issues) as T);
  }
}

export class RecordSchema<T> extends Schema<Record<string, T>> {
  readonly expected: string;
  constructor(
    readonly value: Schema<T>,
    private readonly key?: Schema<string>,
  ) {
    super();
    this.expected = value.expected === 'any value' ? 'an object' : `an object of ${plural(value.expected)} by name`;
  }
  matches(value: unknown): value is Record<string, T> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
  protected checkInside(value: Record<string, T>, path: string, issues: Issue[]): Record<string, T> {
    const output: Record<string, T> = {};
    for (const [key, item] of Object.entries(value)) {
      const at = keyPath(path, key);
      this.key?.check(key, at, issues);
      const result = this.value.check(item, at, issues);
      if (result !== undefined) output[key] = result;
    }
    return output;
  }
}

/**
 * 'a string' → 'strings', 'a non-empty string' → 'non-empty strings', for
 * "a list of strings"; other phrases ('true or false') keep their words.
 */
function plural(expected: string): string {
  const bare = expected.replace(/^(a|an) /, '');
  return /^([a-z-]+ )?[a-z]+$/.test(bare) && bare !== expected ? `${bare}s` : bare;
}

export const array = <T>(item: Schema<T>): ArraySchema<T> => new ArraySchema(item);
/** An object whose keys are names you choose (environments, tasks); `key` checks each name. */
export const record = <T>(value: Schema<T>, options: { key?: Schema<string> } = {}): RecordSchema<T> =>
  new RecordSchema(value, options.key);

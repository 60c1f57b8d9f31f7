import { isSecret, type Secret } from '../../command/secret.js';
import { describeValue, listOr, type Issue } from './issue.js';
import { Schema } from './schema.js';
import { didYouMean } from '../../util/did-you-mean.js';

export class StringSchema extends Schema<string> {
  readonly expected: string;
  constructor(private readonly nonEmpty = false) {
    super();
    this.expected = nonEmpty ? 'a non-empty string' : 'a string';
  }
  matches(value: unknown): value is string {
    return typeof value === 'string';
  }
  protected checkInside(value: string, path: string, issues: Issue[]): string {
    if (this.nonEmpty && value.trim() === '') issues.push({ path, message: `expected ${this.expected}, got ${describeValue(value)}` });
    return value;
  }
}

export interface NumberOptions {
  integer?: boolean;
  /** Greater than 0 (a timeout of 0 seconds is never meant). */
  positive?: boolean;
  min?: number;
  max?: number;
}

export class NumberSchema extends Schema<number> {
  readonly expected: string;
  constructor(private readonly options: NumberOptions = {}) {
    super();
    const { integer, positive, min, max } = options;
    const kind = `${positive ? 'a positive ' : integer ? 'an ' : 'a '}${integer ? 'integer' : 'number'}`;
    this.expected =
      min !== undefined && max !== undefined ? `${kind} from ${min} to ${max}` : min !== undefined ? `${kind} ≥ ${min}` : max !== undefined ? `${kind} ≤ ${max}` : kind;
  }
  matches(value: unknown): value is number {
    return typeof value === 'number' && !Number.isNaN(value);
  }
  protected checkInside(value: number, path: string, issues: Issue[]): number {
    const { integer, positive, min, max } = this.options;
    const wrong =
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value)) ||
      (positive && value <= 0) ||
      (min !== undefined && value < min) ||
      (max !== undefined && value > max);
    if (wrong) issues.push({ path, message: `expected ${this.expected}, got ${describeValue(value)}` });
    return value;
  }
}

/** Accepts anything for which `test` is true. */
export class PredicateSchema<T> extends Schema<T> {
  constructor(
    readonly expected: string,
    private readonly test: (value: unknown) => boolean,
  ) {
    super();
  }
  matches(value: unknown): value is T {
    return this.test(value);
  }
  protected checkInside(value: T): T {
    return value;
  }
}

type Literal = string | number | boolean;

/** One of a few exact values: oneOf('ssh', 'local'). */
export class OneOfSchema<T extends Literal> extends Schema<T> {
  readonly expected: string;
  constructor(private readonly values: readonly T[]) {
    super();
    this.expected = listOr(values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))));
  }
  matches(value: unknown): value is T {
    return (this.values as readonly unknown[]).includes(value);
  }
  protected override mismatch(value: unknown): string {
    const strings = this.values.filter((v): v is T & string => typeof v === 'string');
    return super.mismatch(value) + (typeof value === 'string' ? didYouMean(value, strings) : '');
  }
  protected checkInside(value: T): T {
    return value;
  }
}

/**
 * Your own rule. `check` returns true to accept, false to reject with
 * "expected <expected>, got …", or a message of its own.
 */
export class CustomSchema<T> extends Schema<T> {
  constructor(
    private readonly rule: (value: unknown) => boolean | string,
    readonly expected: string,
  ) {
    super();
  }
  matches(value: unknown): value is T {
    return this.rule(value) === true;
  }
  protected override mismatch(value: unknown): string {
    const verdict = this.rule(value);
    return typeof verdict === 'string' ? verdict : super.mismatch(value);
  }
  protected checkInside(value: T): T {
    return value;
  }
}

export const string = (options: { nonEmpty?: boolean } = {}): StringSchema => new StringSchema(options.nonEmpty);
export const number = (options: NumberOptions = {}): NumberSchema => new NumberSchema(options);
export const boolean = (): Schema<boolean> => new PredicateSchema<boolean>('true or false', (v) => typeof v === 'boolean');
export type AnyFunction = (...args: never[]) => unknown;
export const func = (): Schema<AnyFunction> => new PredicateSchema<AnyFunction>('a function', (v) => typeof v === 'function');
/** Any value, including undefined (e.g. a var). */
export const unknown = (): Schema<unknown> => new PredicateSchema<unknown>('any value', () => true).optional();
/** A password or similar: a string, or secret('…') to keep it out of every log. */
export const secretValue = (): Schema<string | Secret> =>
  new PredicateSchema<string | Secret>("a string or secret('…')", (v) => typeof v === 'string' || isSecret(v));
export const oneOf = <const T extends Literal>(...values: T[]): OneOfSchema<T> => new OneOfSchema(values);
export const literal = <const T extends Literal>(value: T): OneOfSchema<T> => new OneOfSchema([value]);
export const custom = <T = unknown>(check: (value: unknown) => boolean | string, expected: string): CustomSchema<T> =>
  new CustomSchema<T>(check, expected);

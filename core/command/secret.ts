import { inspect } from 'node:util';

const MASK = '***';
const secretValues = new WeakMap<Secret, string>();

/**
 * A value that must never be printed: every formatter (toString, JSON,
 * util.inspect, masked command rendering) shows `***`. Only the executor
 * unwraps it, through `revealSecret`.
 */
export class Secret {
  readonly label: string | undefined;

  constructor(value: string, label?: string) {
    secretValues.set(this, value);
    this.label = label;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return this.label ? `Secret(${this.label})` : `Secret(${MASK})`;
  }
}

/** Wraps a value so that deployr masks it in every command line, log and error. */
export function secret(value: string, label?: string): Secret {
  if (typeof value !== 'string') {
    throw new TypeError(`secret() takes a string, got ${typeof value}`);
  }
  return new Secret(value, label);
}

export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret;
}

/** The real value. For executors only: never pass the result to a logger. */
export function revealSecret(value: Secret): string {
  const revealed = secretValues.get(value);
  if (revealed === undefined) throw new TypeError('not a deployr secret');
  return revealed;
}

/**
 * Replaces every occurrence of the given secret values in text (command
 * output can echo a secret back). Short values are masked too: a leaked
 * 3-character password is still a leak.
 */
export function maskSecretValues(text: string, values: Iterable<string>): string {
  let masked = text;
  // Longest first: masking "abc" before "abcdef" would leave "***def" behind.
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (value.length === 0) continue;
    masked = masked.split(value).join(MASK);
  }
  return masked;
}

export { MASK };

import { isSecret } from '../../command/secret.js';

/** One problem found in a value: where (`environments.prod.hosts[2].port`) and what. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

// Keys that read unambiguously after a dot; anything else gets brackets: tasks["db migrate"].
const PLAIN_KEY = /^[A-Za-z0-9_$][\w$:-]*$/;

export function keyPath(parent: string, key: string): string {
  const part = PLAIN_KEY.test(key) ? key : `[${JSON.stringify(key)}]`;
  return parent === '' || part.startsWith('[') ? `${parent}${part}` : `${parent}.${part}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

const MAX_SHOWN = 40;

/** The value as a message shows it after "got": "22x" (quoted), 42, null, an array, a function. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (Array.isArray(value)) return 'an array';
  // Never show a secret's contents, not even its label: messages end up in CI logs.
  if (isSecret(value)) return 'a secret';
  return 'an object';
}

/** "'a'", "'a' or 'b'", "'a', 'b' or 'c'". */
export function listOr(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

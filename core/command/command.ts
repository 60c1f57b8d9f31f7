import { quote } from './quote.js';
import { MASK, Secret, isSecret, revealSecret } from './secret.js';

/**
 * A shell command kept as data until it is executed: literal text, secrets
 * (quoted when rendered for execution, masked when rendered for display), and
 * nested commands quoted as one word (for `sh -c`, `sudo … sh -c`).
 */
export type CommandPart =
  | { readonly kind: 'text'; readonly value: string }
  | { readonly kind: 'secret'; readonly value: Secret }
  | { readonly kind: 'quoted'; readonly value: Command }
  /** Runs as `value`, logged as `shown`: protocol plumbing (sudo prompt markers) kept out of logs. */
  | { readonly kind: 'concealed'; readonly value: Command; readonly shown: string };

export class Command {
  readonly parts: readonly CommandPart[];

  constructor(parts: readonly CommandPart[]) {
    this.parts = parts;
  }

  /** The string to execute, secrets revealed. Call only where the command runs. */
  render(): string {
    return this.parts
      .map((part) => {
        if (part.kind === 'text') return part.value;
        if (part.kind === 'secret') return quote(revealSecret(part.value));
        if (part.kind === 'concealed') return part.value.render();
        return quote(part.value.render());
      })
      .join('');
  }

  /** The string to show in logs, errors and --dry-run: secrets masked. */
  display(): string {
    return this.parts
      .map((part) => {
        if (part.kind === 'text') return part.value;
        if (part.kind === 'secret') return MASK;
        if (part.kind === 'concealed') return part.shown;
        return quote(part.value.display());
      })
      .join('');
  }

  /** Secret values inside this command, to mask them in its output too. */
  secretValues(): string[] {
    const values: string[] = [];
    for (const part of this.parts) {
      if (part.kind === 'secret') values.push(revealSecret(part.value));
      else if (part.kind === 'quoted' || part.kind === 'concealed') values.push(...part.value.secretValues());
    }
    return values;
  }

  /** Masked, so a command accidentally logged with `${command}` leaks nothing. */
  toString(): string {
    return this.display();
  }

  toJSON(): string {
    return this.display();
  }
}

const RAW = Symbol('deployr.raw');

/** Text inserted into a command without quoting. Easy to grep for in review. */
export interface Raw {
  readonly [RAW]: string;
}

/** Marks a fragment as deliberately unquoted shell syntax (globs, redirections, `$VAR`). */
export function raw(text: string): Raw {
  if (typeof text !== 'string') throw new TypeError(`raw() takes a string, got ${typeof text}`);
  return { [RAW]: text };
}

function isRaw(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && RAW in value;
}

export type CommandValue =
  | string
  | number
  | bigint
  | boolean
  | Raw
  | Secret
  | Command
  | readonly CommandValue[];

/** Something exec() accepts: a built command, or a literal script the user wrote. */
export type CommandInput = Command | string;

function partsOf(value: CommandValue, position: number): CommandPart[] {
  if (value instanceof Command) return [...value.parts];
  if (isSecret(value)) return [{ kind: 'secret', value }];
  if (isRaw(value)) return [{ kind: 'text', value: value[RAW] }];
  if (Array.isArray(value)) {
    const parts: CommandPart[] = [];
    value.forEach((element: CommandValue, index: number) => {
      if (index > 0) parts.push({ kind: 'text', value: ' ' });
      parts.push(...partsOf(element, position));
    });
    return parts;
  }
  if (typeof value === 'string') return [{ kind: 'text', value: quote(value) }];
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return [{ kind: 'text', value: quote(String(value)) }];
  }
  // undefined/null/objects would silently become "undefined" or "[object Object]" on a host.
  throw new TypeError(
    `cmd\`…\`: interpolated value #${position + 1} is ${value === null ? 'null' : typeof value}; ` +
      'pass a string, number, array, raw(), secret() or another cmd`…`',
  );
}

/**
 * Builds a command; every interpolated value is quoted for POSIX sh (arrays
 * element by element). Use raw() for deliberate shell syntax, secret() for
 * values to mask.
 *
 * @example cmd`git clone ${repo} ${dir}`
 * @example cmd`rm -f ${files}`            // each file quoted separately
 * @example cmd`ls ${raw('*.log')}`         // glob left to the shell
 */
export function cmd(strings: TemplateStringsArray, ...values: CommandValue[]): Command {
  const parts: CommandPart[] = [];
  strings.forEach((text, index) => {
    if (text !== '') parts.push({ kind: 'text', value: text });
    if (index < values.length) parts.push(...partsOf(values[index] as CommandValue, index));
  });
  return new Command(mergeText(parts));
}

function mergeText(parts: CommandPart[]): CommandPart[] {
  const merged: CommandPart[] = [];
  for (const part of parts) {
    const last = merged[merged.length - 1];
    if (part.kind === 'text' && last?.kind === 'text') {
      merged[merged.length - 1] = { kind: 'text', value: last.value + part.value };
    } else {
      merged.push(part);
    }
  }
  return merged;
}

/** A literal script string (user-written, trusted) or a built command, as a Command. */
export function toCommand(input: CommandInput): Command {
  if (input instanceof Command) return input;
  if (typeof input !== 'string') {
    throw new TypeError(`expected a command string or cmd\`…\`, got ${typeof input}`);
  }
  return new Command([{ kind: 'text', value: input }]);
}

/** Joins commands with a separator such as ' && ' or ' | '. */
export function joinCommands(separator: string, commands: readonly CommandInput[]): Command {
  const parts: CommandPart[] = [];
  commands.forEach((input, index) => {
    if (index > 0) parts.push({ kind: 'text', value: separator });
    parts.push(...toCommand(input).parts);
  });
  return new Command(mergeText(parts));
}

/** Executes as `input` but is logged as `shown` (which may be empty). */
export function concealed(input: CommandInput, shown: string): Command {
  return new Command([{ kind: 'concealed', value: toCommand(input), shown }]);
}

/** The whole command as a single quoted word, e.g. for `sh -c <word>`. */
export function quoted(input: CommandInput): Command {
  return new Command([{ kind: 'quoted', value: toCommand(input) }]);
}

import { describeValue, type Issue } from './issue.js';

/** What a schema accepts, as TypeScript sees it. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/**
 * One option's declaration: its type (the subclass), whether it may be left
 * out, its default and its description. Validation and generated docs both
 * read it, so each option is declared once. Modifiers return a copy: a schema
 * can be shared between places without one place changing another.
 */
export abstract class Schema<T> {
  /** Phantom, for Infer<>. */
  declare readonly _type: T;
  /** How the accepted values read in a message: 'a number', "'ssh' or 'local'". */
  abstract readonly expected: string;
  description: string | undefined;
  isOptional = false;
  hasDefault = false;
  defaultValue: unknown;
  // Typed loosely so Schema<string> is still a Schema<unknown>; each rule is called with a value of T only.
  private refinements: ((value: never) => string | undefined)[] = [];
  private mismatchMessage: ((value: unknown) => string | undefined) | undefined;

  /** Whether the value is of this kind at all (unions pick their branch by it), before looking inside. */
  abstract matches(value: unknown): value is T;

  /** Checks inside a value of the right kind (members, ranges); returns what validation yields for it. */
  protected abstract checkInside(value: T, path: string, issues: Issue[]): T;

  /** The message when matches() is false. */
  protected mismatch(value: unknown): string {
    return `expected ${this.expected}, got ${describeValue(value)}`;
  }

  /** Validates `value` found at `path`, appending every problem to `issues`; returns the value with defaults filled in. */
  check(value: unknown, path: string, issues: Issue[]): T | undefined {
    if (value === undefined) {
      if (this.hasDefault) return this.defaultValue as T;
      if (!this.isOptional) issues.push({ path, message: `expected ${this.expected}, got undefined` });
      return undefined;
    }
    if (!this.matches(value)) {
      issues.push({ path, message: this.mismatchMessage?.(value) ?? this.mismatch(value) });
      return undefined;
    }
    const before = issues.length;
    const result = this.checkInside(value, path, issues);
    if (issues.length === before) {
      for (const refine of this.refinements) {
        const message = (refine as (value: T) => string | undefined)(result);
        if (message !== undefined) {
          issues.push({ path, message });
          break;
        }
      }
    }
    return result;
  }

  /** May be left out (or undefined). */
  optional(): Schema<T | undefined> {
    return this.with({ isOptional: true }) as Schema<T | undefined>;
  }

  /** Used when the value is left out; docs show it. */
  default(value: T): Schema<T> {
    return this.with({ hasDefault: true, defaultValue: value, isOptional: true });
  }

  /** One line for docs: what the option does. */
  describe(text: string): this {
    return this.with({ description: text });
  }

  /** An extra rule, checked once the type is right: return a message to report, or undefined. */
  refine(rule: (value: T) => string | undefined): this {
    return this.with({ refinements: [...this.refinements, rule] });
  }

  /** A message for values of the wrong kind that says more than "expected X" (return undefined for the default). */
  whenMismatched(message: (value: unknown) => string | undefined): this {
    return this.with({ mismatchMessage: message });
  }

  private with(changes: Partial<Schema<T>> & Record<string, unknown>): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this, changes);
  }
}

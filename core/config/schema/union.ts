import { describeValue, listOr, type Issue } from './issue.js';
import { Schema, type Infer } from './schema.js';

/**
 * One of several shapes. The branch is chosen by kind (a string, an object…),
 * so a host object with a bad port reports the port, not "expected a string
 * or an object".
 */
export class UnionSchema<B extends readonly Schema<unknown>[]> extends Schema<Infer<B[number]>> {
  readonly expected: string;
  constructor(
    readonly branches: B,
    expected?: string,
  ) {
    super();
    this.expected = expected ?? listOr(branches.map((b) => b.expected));
  }

  matches(value: unknown): value is Infer<B[number]> {
    return this.branches.some((branch) => branch.matches(value));
  }

  protected override mismatch(value: unknown): string {
    return `expected ${this.expected}, got ${describeValue(value)}`;
  }

  protected checkInside(value: Infer<B[number]>, path: string, issues: Issue[]): Infer<B[number]> {
    let firstIssues: Issue[] | undefined;
    for (const branch of this.branches) {
      if (!branch.matches(value)) continue;
      const own: Issue[] = [];
      const result = branch.check(value, path, own);
      if (own.length === 0) return result as Infer<B[number]>;
      firstIssues ??= own;
    }
    issues.push(...(firstIssues ?? []));
    return value;
  }
}

/** `expected` phrases the whole union in messages, e.g. "a host string like 'user@host:port' or a host object". */
export const union = <const B extends readonly Schema<unknown>[]>(branches: B, options: { expected?: string } = {}): UnionSchema<B> =>
  new UnionSchema(branches, options.expected);

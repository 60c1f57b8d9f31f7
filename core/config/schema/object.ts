import { keyPath, type Issue } from './issue.js';
import { Schema, type Infer } from './schema.js';
import { closest } from '../../util/did-you-mean.js';

export type Shape = Record<string, Schema<unknown>>;

type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type InferShape<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

export interface ObjectOptions {
  description?: string;
  /**
   * 'error' (default): a key the shape does not declare is a problem, with a
   * did-you-mean. 'allow': extra keys are fine and the value is returned as
   * it is (objects with methods, such as plugins).
   */
  unknownKeys?: 'error' | 'allow';
}

export class ObjectSchema<S extends Shape> extends Schema<InferShape<S>> {
  readonly expected = 'an object';
  constructor(
    readonly shape: S,
    private readonly unknownKeys: 'error' | 'allow' = 'error',
  ) {
    super();
  }

  matches(value: unknown): value is InferShape<S> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }

  protected checkInside(value: InferShape<S>, path: string, issues: Issue[]): InferShape<S> {
    const input = value as Record<string, unknown>;
    const output: Record<string, unknown> = {};
    const strict = this.unknownKeys === 'error';
    const known = Object.keys(this.shape);
    // A misspelt key also leaves its intended key missing; the did-you-mean says it all, once.
    const meantByTypo = new Set<string>();
    // In the order written, then what was left out: messages and a printed config read like the source.
    for (const key of Object.keys(input)) {
      if (Object.hasOwn(this.shape, key)) {
        const result = (this.shape[key] as Schema<unknown>).check(input[key], keyPath(path, key), issues);
        if (result !== undefined) output[key] = result;
      } else if (strict) {
        const meant = closest(key, known);
        if (meant !== undefined) meantByTypo.add(meant);
        issues.push({
          path: keyPath(path, key),
          message: meant === undefined ? `unknown key (known keys: ${known.join(', ')})` : `unknown key — did you mean '${meant}'?`,
        });
      }
    }
    for (const key of known) {
      if (Object.hasOwn(input, key)) continue;
      const schema = this.shape[key] as Schema<unknown>;
      if (key in input) {
        // Inherited (a class instance's method): checked, never copied.
        schema.check(input[key], keyPath(path, key), issues);
      } else if (!schema.isOptional) {
        if (!meantByTypo.has(key)) issues.push({ path: keyPath(path, key), message: `missing — expected ${schema.expected}` });
      } else if (schema.hasDefault) {
        output[key] = schema.defaultValue;
      }
    }
    return strict ? (output as InferShape<S>) : value;
  }
}

export function object<S extends Shape>(shape: S, options: ObjectOptions = {}): ObjectSchema<S> {
  const schema = new ObjectSchema(shape, options.unknownKeys);
  return options.description === undefined ? schema : schema.describe(options.description);
}

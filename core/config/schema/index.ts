/**
 * A small declarative validator: declare each option once — type, default,
 * description — and get validation that reports every problem with its path,
 * plus the rows for docs. Plugins validate their options with it too:
 *
 * ```ts
 * const optionsSchema = s.object({
 *   program: s.string().describe('Program name in supervisord.conf'),
 *   numprocs: s.number({ integer: true, min: 1 }).default(1).describe('Processes to run'),
 * });
 * export function supervisor(options: Infer<typeof optionsSchema>): Plugin {
 *   const opts = validateOptions(optionsSchema, options, 'deployr:supervisor');
 *   …
 * }
 * ```
 */
import { array, record } from './collections.js';
import { object } from './object.js';
import { boolean, custom, func, literal, number, oneOf, secretValue, string, unknown } from './primitives.js';
import { union } from './union.js';

export const s = {
  object,
  string,
  number,
  boolean,
  literal,
  oneOf,
  array,
  record,
  union,
  function: func,
  secret: secretValue,
  custom,
  unknown,
} as const;

export { Schema, type Infer } from './schema.js';
export { ObjectSchema, type Shape, type InferShape, type ObjectOptions } from './object.js';
export { ArraySchema, RecordSchema } from './collections.js';
export { UnionSchema } from './union.js';
export { StringSchema, NumberSchema, OneOfSchema, CustomSchema, type NumberOptions, type AnyFunction } from './primitives.js';
export type { Issue } from './issue.js';
export { validate, validateOptions } from './validate.js';
export { listOptions, type OptionRow } from './docs.js';
export { closest, didYouMean } from '../../util/did-you-mean.js';

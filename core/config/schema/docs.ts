import { ArraySchema, RecordSchema } from './collections.js';
import { keyPath } from './issue.js';
import { ObjectSchema } from './object.js';
import type { Schema } from './schema.js';
import { UnionSchema } from './union.js';

/** One documented option, as a README options table lists it. */
export interface OptionRow {
  /** `environments.<name>.hosts[]`: `<name>` for a key you choose, `[]` for list items. */
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly description?: string;
}

/** Every option a schema declares, depth first: docs come from the same declarations validation uses. */
export function listOptions(schema: Schema<unknown>): OptionRow[] {
  const rows: OptionRow[] = [];
  collect(schema, '', rows);
  return rows;
}

function collect(schema: Schema<unknown>, path: string, rows: OptionRow[]): void {
  if (path !== '') {
    rows.push({
      path,
      type: schema.expected,
      required: !schema.isOptional,
      ...(schema.hasDefault ? { default: schema.defaultValue } : {}),
      ...(schema.description === undefined ? {} : { description: schema.description }),
    });
  }
  collectInside(schema, path, rows);
}

function collectInside(schema: Schema<unknown>, path: string, rows: OptionRow[]): void {
  if (schema instanceof ObjectSchema) {
    for (const [key, member] of Object.entries(schema.shape as Record<string, Schema<unknown>>)) collect(member, keyPath(path, key), rows);
  } else if (schema instanceof RecordSchema) {
    collect(schema.value as Schema<unknown>, `${path}.<name>`, rows);
  } else if (schema instanceof ArraySchema) {
    collect(schema.item as Schema<unknown>, `${path}[]`, rows);
  } else if (schema instanceof UnionSchema) {
    // The union's own row says what it accepts; an object branch adds its members.
    for (const branch of schema.branches as readonly Schema<unknown>[]) collectInside(branch, path, rows);
  }
}

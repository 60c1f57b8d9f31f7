import type { EnvironmentConfig } from './types.js';

export type ExtendsChain =
  | { readonly ok: true; /** The environment first, then what it extends, and so on. */ readonly chain: readonly string[] }
  | { readonly ok: false; readonly chain: readonly string[]; readonly unknown: string }
  | { readonly ok: false; readonly chain: readonly string[]; /** `a → b → a` as names. */ readonly cycle: readonly string[] };

/** Follows `extends` from `name`. Validation reports what goes wrong; resolution relies on a validated config. */
export function extendsChain(environments: Readonly<Record<string, EnvironmentConfig | undefined>>, name: string): ExtendsChain {
  const chain = [name];
  let current = environments[name];
  // Only strings are followed: any other `extends` is the schema's to report.
  while (typeof current?.extends === 'string') {
    const base = current.extends;
    const seen = chain.indexOf(base);
    if (seen >= 0) return { ok: false, chain, cycle: [...chain.slice(seen), base] };
    if (!Object.hasOwn(environments, base)) return { ok: false, chain, unknown: base };
    chain.push(base);
    current = environments[base];
  }
  return { ok: true, chain };
}

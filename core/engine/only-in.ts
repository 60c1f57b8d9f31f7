import { ConfigError } from '../errors.js';
import type { Plugin } from './plugin.js';

/**
 * A plugin that applies only to runs for the named environments, e.g. ship
 * git commits to servers but deploy the work tree to this machine:
 *
 * ```ts
 * plugins: [onlyIn(['prod', 'staging'], git({ ref: 'main' }))],
 * ```
 * Without an environment (`deployr list`), it applies, so its tasks are listed.
 */
export function onlyIn(environments: readonly string[], plugin: Plugin): Plugin {
  if (!Array.isArray(environments) || environments.length === 0 || environments.some((name) => typeof name !== 'string' || name === '')) {
    throw new ConfigError(`onlyIn(): expected a list of environment names for plugin "${plugin?.name ?? '?'}"`, { hint: "e.g. onlyIn(['prod'], plugin)" });
  }
  return {
    name: plugin.name,
    apply(deployr) {
      // A misspelt name would silently never apply the plugin.
      const known = Object.keys(deployr.config.environments ?? {});
      const unknown = environments.filter((name) => !known.includes(name));
      if (unknown.length > 0) {
        throw new ConfigError(`onlyIn(): no environment named ${unknown.map((n) => `"${n}"`).join(', ')} (plugin "${plugin.name}")`, {
          hint: `use the names under environments: ${known.join(', ') || '(none)'}`,
        });
      }
      const current = deployr.environment?.name;
      if (current !== undefined && !environments.includes(current)) return;
      return plugin.apply(deployr);
    },
  };
}

import type { Deployr } from './deployr.js';

/**
 * A plugin: a name and an apply() that taps hooks and registers tasks.
 * First-party and third-party plugins have exactly this shape, made by a
 * factory that takes typed options:
 *
 * ```ts
 * export function slack(options: { webhook: string }): Plugin {
 *   return {
 *     name: 'slack',
 *     apply(deployr) {
 *       deployr.hooks.done.tapPromise('slack', async (run) => { … });
 *     },
 *   };
 * }
 * ```
 * Tap with the plugin's name: failures are reported as
 * `[name] failed in "hook" on host: …`.
 */
export interface Plugin {
  /** Unique name; first-party plugins use 'deployr:<name>'. */
  name: string;
  /** Called once when the Deployr instance is created, in the order plugins are listed. */
  apply(deployr: Deployr): void | Promise<void>;
}

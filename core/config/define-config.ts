import type { ConfigEnv, DeployrConfig } from './types.js';

/**
 * Types a deploy.config.ts. Either the config itself or a (possibly async)
 * function of the environment name, for settings that differ per target:
 *
 * ```ts
 * export default defineConfig({ app: 'shop', environments: { prod: { hosts: ['web-1'] } } });
 * export default defineConfig(async ({ environment }) => ({ … }));
 * ```
 */
export function defineConfig<const T extends DeployrConfig>(config: T): T;
export function defineConfig(config: (env: ConfigEnv) => DeployrConfig | Promise<DeployrConfig>): (env: ConfigEnv) => DeployrConfig | Promise<DeployrConfig>;
export function defineConfig(config: unknown): unknown {
  return config;
}

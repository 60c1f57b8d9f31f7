/**
 * deployr's public API. Everything a config file, a plugin or a script may
 * import comes from here; anything else is internal and may change.
 */
export * from './errors.js';
export * from './command/index.js';
export * from './connection/index.js';
export { defineConfig, type DeployrConfig, type EnvironmentConfig, type HostConfig } from './config/define-config.js';

// @ts-nocheck — a fixture for deployr's loader, not compiled with the tests: 'deployr' resolves through the loader.
import { defineConfig } from 'deployr';

export default defineConfig(async ({ environment }) => {
  if (environment === 'prod') {
    throw new TypeError(`no credentials for ${environment}`);
  }
  return { app: 'shop', environments: { prod: { hosts: ['web-1'] } } };
});

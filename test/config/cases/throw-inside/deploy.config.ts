// @ts-nocheck — a fixture for deployr's loader, not compiled with the tests: 'deployr' resolves through the loader.
import { defineConfig } from 'deployr';

const databaseUrl = process.env.DEPLOYR_TEST_UNSET_DATABASE_URL;
if (!databaseUrl) {
  throw new Error('DEPLOYR_TEST_UNSET_DATABASE_URL is not set');
}

export default defineConfig({ app: 'shop', environments: { prod: { hosts: ['web-1'] } } });

// @ts-nocheck — a fixture for deployr's loader, not compiled with the tests: 'deployr' resolves through the loader.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: {
    prod: { hosts: ['web-1'] },
    staging: { hosts: ['web-9'] },
  },
});

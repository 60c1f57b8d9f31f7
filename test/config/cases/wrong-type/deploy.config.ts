// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  keepReleases: '5',
  environments: {
    prod: {
      hosts: ['web-1', 'web-2', { address: 'web-3', port: '22x' }],
    },
  },
});

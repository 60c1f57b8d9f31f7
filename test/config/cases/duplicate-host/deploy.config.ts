// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: {
    prod: {
      hosts: ['deploy@web-1', 'root@web-1:2222', { name: 'web-1', address: '10.0.0.1' }, { name: 'web-2', address: 'web-1' }],
    },
    // Different environments may share a host name.
    staging: { hosts: ['web-1'] },
  },
});

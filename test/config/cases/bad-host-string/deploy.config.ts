// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: {
    prod: {
      hosts: ['deploy@web-1:22x', 'deploy@', '[::1]:0', 'deploy@web-2:2222'],
    },
  },
});

// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: {
    a: { extends: 'b', hosts: ['web-1'] },
    b: { extends: 'a' },
    c: { extends: 'a' },
    d: { extends: 'd' },
  },
});

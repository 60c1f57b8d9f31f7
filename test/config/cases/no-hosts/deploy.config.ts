// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: {
    prod: {},
    staging: { extends: 'prod' },
    qa: { hosts: [] },
    // Fine: runs on this machine.
    dev: { connect: 'local' },
  },
});

// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: { prod: { hosts: ['web-1'] } },
  hooks: {
    predeploi: async () => {},
    done: 'notify',
    postdeploy: async () => {},
  },
});

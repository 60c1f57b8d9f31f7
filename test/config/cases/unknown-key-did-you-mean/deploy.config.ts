// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  deploy_to: '/srv/shop',
  environments: {
    prod: {
      hosts: ['web-1'],
      ssh: { identityfile: '~/.ssh/deploy' },
      colour: 'blue',
    },
  },
});

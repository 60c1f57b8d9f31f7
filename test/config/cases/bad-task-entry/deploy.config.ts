// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: { prod: { hosts: ['web-1'] } },
  tasks: {
    migrate: 42,
    'db migrate': async () => {},
    seed: { run: 'db:seed', rols: ['db'] },
    build: { description: 'Build assets', local: true },
    restart: { run: async () => {}, timeout: -1, once: 'yes' },
    fine: async () => {},
  },
});

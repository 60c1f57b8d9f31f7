// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

function supervisor() {
  return { name: 'deployr:supervisor', apply() {} };
}

export default defineConfig({
  environments: {
    prod: {
      hots: ['web-1'],
      hosts: ['web-1', 'web-2', { address: 'web-3', port: '22x' }],
      connect: 'sssh',
      confirm: 'yes',
    },
    staging: { extends: 'prdo' },
  },
  plugins: [supervisor],
  tasks: { 'db migrate': 'migrate' },
  sudoPassword: 1234,
});

// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

export default defineConfig(({ environment }) => {
  if (environment === 'prod') ({ app: 'shop', environments: { prod: { hosts: ['web-1'] } } });
});

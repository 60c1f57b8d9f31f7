// @ts-nocheck — deliberately wrong; deployr must catch it at run time, whatever the types said.
import { defineConfig } from 'deployr';

function supervisor(options = {}) {
  return { name: 'deployr:supervisor', apply() {}, options };
}

export default defineConfig({
  app: 'shop',
  environments: { prod: { hosts: ['web-1'] } },
  plugins: [supervisor, supervisor(), { name: 'half-done' }, 'deployr:git'],
});

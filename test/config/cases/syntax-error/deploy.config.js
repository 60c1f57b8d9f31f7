import { defineConfig } from 'deployr';

export default defineConfig({
  app: 'shop',
  environments: {
    prod: { hosts: ['web-1'] }
  }
  plugins: [],
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Kept under test/ so the repository's top level stays as designed.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  resolve: {
    // Tests import 'deployr' as users do; under vitest that is the sources, not a possibly stale dist/.
    alias: [{ find: /^deployr$/, replacement: fileURLToPath(new URL('../core/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One real sshd fleet for the whole run, started once (see test/fleet/).
    globalSetup: ['test/fleet/global-setup.ts'],
    pool: 'forks',
    // 2 cores: more workers only add contention with the sshd processes.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

// Runs the TypeScript compiler over the tests (type tests included), the
// sources and the example deploy.config.ts: a type-level regression in the
// public API fails the suite, not just `npm run typecheck`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));

it('tsc -p test/tsconfig.json reports no errors', () => {
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(repo, 'test/tsconfig.json'), '--noEmit'], { cwd: repo, encoding: 'utf8' });
  expect(result.stdout + result.stderr).toBe('');
  expect(result.status).toBe(0);
}, 120_000);

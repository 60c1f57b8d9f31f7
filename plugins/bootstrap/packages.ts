import { ensurePackages, type OsInfo } from 'deployr';
import { basePackages } from './commands.js';
import type { RootShell, StepContext } from './root.js';

/**
 * Installs what is missing of the base packages and `extra`. Logged in as
 * root, without sudo: a fresh host may not have sudo until this step
 * installs it.
 */
export function ensureBasePackages(ctx: StepContext, root: RootShell, os: OsInfo, python: boolean, extra: readonly string[]): Promise<string[]> {
  const packages = [...new Set([...basePackages(os.packageManager, python), ...extra])];
  return ensurePackages(ctx, packages, { os, sudo: !root.direct });
}

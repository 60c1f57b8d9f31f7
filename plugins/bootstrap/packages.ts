import { installPackagesCommand, missingPackagesCommand, reportChange, type OsInfo } from 'deployr';
import { basePackages } from './commands.js';
import type { RootShell, StepContext } from './root.js';

/**
 * Installs what is missing of the base packages and `extra`, reporting each
 * package as ensurePackages() does. Not ensurePackages() itself: that always
 * goes through sudo, and a fresh host bootstrapped as root may not have sudo
 * until this step installs it.
 */
export async function ensureBasePackages(ctx: StepContext, root: RootShell, os: OsInfo, python: boolean, extra: readonly string[]): Promise<string[]> {
  const packages = [...new Set([...basePackages(os.packageManager, python), ...extra])];
  const query = await ctx.host.exec(missingPackagesCommand(os.packageManager, packages), { readOnly: true, quiet: true, signal: ctx.signal });
  const missing = query.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  if (missing.length > 0 && !ctx.dryRun) await root.run(installPackagesCommand(os.packageManager, missing));
  for (const name of packages) {
    const installed = missing.includes(name);
    reportChange(ctx.log, { what: `package ${name}`, status: installed ? 'installed' : 'unchanged', predicted: ctx.dryRun && installed });
  }
  return missing;
}

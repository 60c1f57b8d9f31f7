// One host's bootstrap, as a list of named steps. Each step reads first and
// changes only what differs, so a second run reports only `unchanged`.
import { detectOs, DeployrError, isDeployrError } from 'deployr';
import { ensureDeployUser, ensureGroup, ensureRunUser } from './accounts.js';
import { ensureAuthorizedKeys } from './authorized-keys.js';
import { ensureDirectory } from './directory.js';
import type { BootstrapPlan } from './options.js';
import { ensureBasePackages } from './packages.js';
import { rootShell, type StepContext } from './root.js';
import { ensureSudoers } from './sudoers.js';
import type { PublicKey } from './validate.js';

export interface HostBootstrap {
  readonly plan: BootstrapPlan;
  readonly keys: readonly PublicKey[];
  /** The environment's deployTo as configured (relative paths start at the deploy user's home). */
  readonly deployTo: string | undefined;
}

export async function bootstrapHost(ctx: StepContext, { plan, keys, deployTo }: HostBootstrap): Promise<void> {
  const { root, os } = await step(ctx, 'os', async () => ({ root: await rootShell(ctx), os: await detectOs(ctx.host, ctx.signal) }));
  ctx.log.debug(`${os.prettyName ?? os.id}: ${os.packageManager}, ${root.direct ? 'logged in as root' : 'root through sudo'}`);
  const manager = os.packageManager;
  await step(ctx, 'packages', () => ensureBasePackages(ctx, root, os, plan.python, plan.packages));
  await step(ctx, `group ${plan.group}`, () => ensureGroup(ctx, root, manager, plan.group));
  const deployUser = await step(ctx, `user ${plan.deployUser}`, () =>
    ensureDeployUser(ctx, root, manager, { user: plan.deployUser, group: plan.group, shell: plan.shell }),
  );
  const deployDir = deployTo === undefined ? undefined : resolveDeployTo(deployTo, deployUser.home);
  await step(ctx, `user ${plan.runUser}`, () => ensureRunUser(ctx, root, manager, { user: plan.runUser, group: plan.group, home: deployDir ?? '/nonexistent' }));
  if (keys.length > 0) {
    await step(ctx, 'authorized_keys', () =>
      ensureAuthorizedKeys(ctx, root, { user: plan.deployUser, home: deployUser.home, group: deployUser.primaryGroup, keys, exclusive: plan.exclusiveKeys }),
    );
  }
  if (plan.sudoers.length > 0) await step(ctx, 'sudoers', () => ensureSudoers(ctx, root, { file: plan.sudoersFile, rules: plan.sudoers }));
  if (deployDir !== undefined) {
    await step(ctx, 'deployTo', () =>
      ensureDirectory(ctx, root, { path: deployDir, mode: plan.deployToMode, owner: plan.deployUser, group: plan.group, label: `deployTo ${deployDir}` }),
    );
  }
}

/** deployTo on the host: deploys run as the deploy user, so a relative path (or ~/…) starts at its home. */
export function resolveDeployTo(deployTo: string, home: string): string {
  const path = deployTo.replace(/\/+$/, '') || '/';
  if (path.startsWith('/')) return path;
  const base = home.replace(/\/+$/, '');
  if (path === '~') return base;
  return `${base}/${path.startsWith('~/') ? path.slice(2) : path}`;
}

/** Runs one step; a failure names it (the task's stamp adds plugin, task and host). */
async function step<T>(ctx: StepContext, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new DeployrError(`step "${name}": ${message}`, {
      host: ctx.host.name,
      cause: error,
      ...(isDeployrError(error) && error.hint !== undefined ? { hint: error.hint } : {}),
    });
  }
}

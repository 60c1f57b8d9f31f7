// The shared group, the deploy user and the run user: each read with getent
// first (readOnly, so --dry-run reads them too), then created or completed
// only where something is missing.
import { DeployrError, reportChange, type ChangeStatus, type PackageManager } from 'deployr';
import {
  addToGroupCommand,
  createDeployUserCommand,
  createGroupCommand,
  createRunUserCommand,
  enableKeyLoginCommand,
  groupEntryCommand,
  groupsOfCommand,
  passwordStateCommand,
  userEntryCommand,
} from './commands.js';
import type { RootShell, StepContext } from './root.js';

export interface UserEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** getent exits 2 for "no such entry"; anything else non-zero is a real failure. */
const NOT_FOUND = 2;

export async function readUser(ctx: StepContext, user: string): Promise<UserEntry | undefined> {
  const result = await ctx.host.exec(userEntryCommand(user), { readOnly: true, quiet: true, nothrow: true, signal: ctx.signal });
  if (result.code === NOT_FOUND) return undefined;
  if (!result.ok) throw new DeployrError(`cannot look up user ${user}: ${result.stderr.trim() || `getent exited with ${String(result.code)}`}`, { host: ctx.host.name });
  const [name = user, , uid = '', gid = '', , home = '', shell = ''] = result.stdout.trim().split('\n')[0]?.split(':') ?? [];
  return { name, uid: Number(uid), gid: Number(gid), home, shell };
}

async function groupExists(ctx: StepContext, group: string): Promise<boolean> {
  const result = await ctx.host.exec(groupEntryCommand(group), { readOnly: true, quiet: true, nothrow: true, signal: ctx.signal });
  if (result.code === NOT_FOUND) return false;
  if (!result.ok) throw new DeployrError(`cannot look up group ${group}: ${result.stderr.trim() || `getent exited with ${String(result.code)}`}`, { host: ctx.host.name });
  return true;
}

/** The user's groups, primary first. */
async function groupsOf(ctx: StepContext, user: string): Promise<string[]> {
  const result = await ctx.host.exec(groupsOfCommand(user), { readOnly: true, quiet: true, signal: ctx.signal });
  return result.stdout.trim().split(/\s+/).filter(Boolean);
}

function report(ctx: StepContext, what: string, status: ChangeStatus, changes: readonly string[] = []): void {
  const detail = changes.length > 0 ? ` (${changes.join(', ')})` : '';
  reportChange(ctx.log, { what: `${what}${detail}`, status, predicted: ctx.dryRun && status !== 'unchanged' });
}

export async function ensureGroup(ctx: StepContext, root: RootShell, manager: PackageManager, group: string): Promise<void> {
  if (await groupExists(ctx, group)) return report(ctx, `group ${group}`, 'unchanged');
  await root.run(createGroupCommand(manager, group));
  report(ctx, `group ${group}`, 'created');
}

export interface DeployUserResult {
  readonly home: string;
  /** Its primary group's name, for the files it owns (~/.ssh). */
  readonly primaryGroup: string;
}

/**
 * The login user: created with a home, its own group, the shared group and
 * key login enabled; an existing one only joins the group and gets key login
 * enabled if its account was never given a password.
 */
export async function ensureDeployUser(
  ctx: StepContext,
  root: RootShell,
  manager: PackageManager,
  spec: { user: string; group: string; shell: string },
): Promise<DeployUserResult> {
  const { user, group, shell } = spec;
  const entry = await readUser(ctx, user);
  if (!entry) {
    const home = `/home/${user}`;
    await root.run(createDeployUserCommand(manager, { user, home, shell, group }));
    report(ctx, `user ${user}`, 'created');
    // useradd -U and adduser both give a new user a group of its own name.
    return { home, primaryGroup: user };
  }
  const groups = await groupsOf(ctx, user);
  const changes: string[] = [];
  if (!groups.includes(group)) {
    await root.run(addToGroupCommand(manager, user, group));
    changes.push(`added to group ${group}`);
  }
  const password = (await root.run(passwordStateCommand(user), { readOnly: true, quiet: true })).stdout.trim();
  if (password === 'unset') {
    await root.run(enableKeyLoginCommand(manager, user));
    changes.push('key login enabled: password field ! → *');
  } else if (password === 'locked') {
    ctx.log.warn(`user ${user} is locked (passwd -l): sshd without PAM refuses its key logins too; unlock it with usermod -U ${user} if it should log in`);
  }
  report(ctx, `user ${user}`, changes.length > 0 ? 'updated' : 'unchanged', changes);
  return { home: entry.home, primaryGroup: groups[0] ?? user };
}

/** The app's user: a system user without login in the shared group (as its primary group when new). */
export async function ensureRunUser(ctx: StepContext, root: RootShell, manager: PackageManager, spec: { user: string; group: string; home: string }): Promise<void> {
  const { user, group, home } = spec;
  if (!(await readUser(ctx, user))) {
    await root.run(createRunUserCommand(manager, { user, group, home }));
    return report(ctx, `user ${user}`, 'created');
  }
  if ((await groupsOf(ctx, user)).includes(group)) return report(ctx, `user ${user}`, 'unchanged');
  await root.run(addToGroupCommand(manager, user, group));
  report(ctx, `user ${user}`, 'updated', [`added to group ${group}`]);
}

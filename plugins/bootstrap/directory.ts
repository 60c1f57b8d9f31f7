import { DeployrError, reportChange, type ChangeStatus } from 'deployr';
import { directoryStateCommand, ensureDirectoryCommand } from './commands.js';
import type { RootShell, StepContext } from './root.js';

export interface DirectorySpec {
  readonly path: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
  /** Shown in reports instead of the path. */
  readonly label?: string;
}

/**
 * Makes a directory exist with this owner, group and mode (its contents are
 * left alone): one read, and one command only when something differs.
 */
export async function ensureDirectory(ctx: StepContext, root: RootShell, spec: DirectorySpec): Promise<ChangeStatus> {
  const { path, mode, owner, group } = spec;
  const state = await root.run(directoryStateCommand(path), { readOnly: true, quiet: true, nothrow: true });
  const changes: string[] = [];
  let status: ChangeStatus = 'created';
  if (state.ok) {
    const [type = '', current = '', currentOwner = '', currentGroup = ''] = state.stdout.trim().split('|');
    if (type !== 'directory') {
      throw new DeployrError(`${path} exists but is a ${type || 'something else'}, not a directory`, {
        host: ctx.host.name,
        hint: `move it away, or choose another path`,
      });
    }
    if (parseInt(current, 8) !== mode) changes.push(`mode ${current} → ${mode.toString(8)}`);
    if (currentOwner !== owner) changes.push(`owner ${currentOwner} → ${owner}`);
    if (currentGroup !== group) changes.push(`group ${currentGroup} → ${group}`);
    status = changes.length > 0 ? 'updated' : 'unchanged';
  }
  if (status !== 'unchanged') await root.run(ensureDirectoryCommand(path, mode, owner, group));
  const what = `${spec.label ?? path}${changes.length > 0 ? ` (${changes.join(', ')})` : ''}`;
  reportChange(ctx.log, { what, status, predicted: ctx.dryRun && status !== 'unchanged' });
  return status;
}

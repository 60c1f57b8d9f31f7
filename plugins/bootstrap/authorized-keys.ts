import { cmd, DeployrError, syncFile } from 'deployr';
import { ensureDirectory } from './directory.js';
import { mergeAuthorizedKeys } from './keys.js';
import type { RootShell, StepContext } from './root.js';
import type { PublicKey } from './validate.js';

export interface AuthorizedKeysSpec {
  readonly user: string;
  readonly home: string;
  /** The user's primary group, which owns ~/.ssh and the file. */
  readonly group: string;
  readonly keys: readonly PublicKey[];
  readonly exclusive: boolean;
}

/** ~/.ssh (0700) and ~/.ssh/authorized_keys (0600), owned by the user, holding its keys. */
export async function ensureAuthorizedKeys(ctx: StepContext, root: RootShell, spec: AuthorizedKeysSpec): Promise<void> {
  const { user, home, group } = spec;
  const dir = `${home.replace(/\/+$/, '')}/.ssh`;
  const file = `${dir}/authorized_keys`;
  await ensureDirectory(ctx, root, { path: dir, mode: 0o700, owner: user, group, label: `~${user}/.ssh` });
  let current = '';
  if (!spec.exclusive) {
    const read = await root.run(cmd`if test -e ${file}; then cat ${file}; fi`, { readOnly: true, quiet: true, nothrow: true });
    if (!read.ok) throw new DeployrError(`cannot read ${file}: ${read.stderr.trim() || `exit ${String(read.code)}`}`, { host: ctx.host.name });
    current = read.stdout;
  }
  await syncFile(ctx, {
    path: file,
    content: mergeAuthorizedKeys(current, spec.keys, spec.exclusive),
    mode: 0o600,
    owner: user,
    group,
    sudo: !root.direct,
    label: `~${user}/.ssh/authorized_keys`,
  });
}

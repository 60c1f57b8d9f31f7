import { cmd, DeployrError, syncFile } from 'deployr';
import type { RootShell, StepContext } from './root.js';

export const SUDOERS_DIR = '/etc/sudoers.d';

export function sudoersContent(rules: readonly string[]): string {
  return `# Managed by deployr:bootstrap: edits here are replaced by the next bootstrap.\n${rules.join('\n')}\n`;
}

/**
 * The sudoers drop-in, 0440 root:root. visudo checks the new file before it
 * replaces the old one, so a bad rule leaves the host's sudo as it was (a
 * broken drop-in would lock every sudo user out). A dry run checks the rules
 * too, through visudo's stdin, when the host has visudo.
 */
export async function ensureSudoers(ctx: StepContext, root: RootShell, spec: { file: string; rules: readonly string[] }): Promise<void> {
  const path = `${SUDOERS_DIR}/${spec.file}`;
  const content = sudoersContent(spec.rules);
  if (ctx.dryRun) {
    const check = await root.run(cmd`if command -v visudo >/dev/null; then visudo -cf -; fi`, { stdin: content, readOnly: true, quiet: true, nothrow: true });
    if (!check.ok) {
      const output = `${check.stdout}${check.stderr}`.trim().replace(/^stdin:/gm, `${path}:`);
      throw new DeployrError(`${path} would fail visudo's check, so bootstrap would stop here${output ? `:\n${output}` : ''}`, {
        host: ctx.host.name,
        hint: 'fix the sudoers option (see visudo above)',
      });
    }
  }
  await syncFile(ctx, {
    path,
    content,
    mode: 0o440,
    owner: 'root',
    group: 'root',
    sudo: !root.direct,
    validate: (temp) => cmd`visudo -cf ${temp} >/dev/null`,
  });
}

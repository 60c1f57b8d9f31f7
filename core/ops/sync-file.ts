import { randomUUID } from 'node:crypto';
import { and, cmd, type Command } from '../command/index.js';
import type { ExecOptions, ExecResult, Host } from '../connection/host.js';
import type { TaskContext } from '../engine/context.js';
import { DeployrError } from '../errors.js';
import { reportChange, type ChangeStatus } from './change.js';
import { unifiedDiff } from './line-diff.js';

export interface FileSpec {
  /** Absolute path on the host. */
  readonly path: string;
  readonly content: string;
  /** e.g. 0o644. Default: an existing file keeps its mode, a new one gets 0644. */
  readonly mode?: number;
  readonly owner?: string;
  readonly group?: string;
  /** Read and write as root (through sudo): for /etc and other places the login user cannot write. */
  readonly sudo?: boolean;
  /** Never show the content or a diff of it: keys, passwords, tokens. */
  readonly secret?: boolean;
  /**
   * Checks the new file before it is put in place, e.g.
   * `(file) => cmd\`visudo -cf ${file}\``: a non-zero exit keeps the old
   * file and fails with the checker's output.
   */
  readonly validate?: (tempPath: string) => Command;
  /** Shown in reports instead of the path. */
  readonly label?: string;
}

export interface FileSyncResult {
  readonly status: Extract<ChangeStatus, 'created' | 'updated' | 'unchanged'>;
  readonly diff?: string;
  /** The content before (null: there was no file), e.g. to put it back if a later step fails. */
  readonly previous: string | null;
}

interface CurrentFile {
  readonly content: string;
  readonly mode: number;
  readonly owner: string;
  readonly group: string;
}

/**
 * Makes a file on the host have exactly this content, mode and owner, and
 * touches nothing when it already has: one read to compare, one write only
 * when something differs (to a temporary file beside it, checked, then
 * renamed over: readers never see half a file). Under --dry-run only the
 * read runs and the diff is shown. Reports `unchanged`/`created`/`updated`.
 */
export async function syncFile(ctx: Pick<TaskContext, 'host' | 'log' | 'dryRun' | 'signal'>, spec: FileSpec): Promise<FileSyncResult> {
  const run = (command: Command, options: ExecOptions = {}): Promise<ExecResult> =>
    spec.sudo ? ctx.host.sudo(command, { signal: ctx.signal, ...options }) : ctx.host.exec(command, { signal: ctx.signal, ...options });
  const current = await readCurrent(run, spec.path, ctx.host.name);
  const status: FileSyncResult['status'] = !current ? 'created' : differs(current, spec) ? 'updated' : 'unchanged';
  const what = spec.label ?? spec.path;
  const diff =
    status === 'unchanged' || spec.secret || current?.content === spec.content
      ? undefined
      : unifiedDiff(current?.content ?? '', spec.content, { from: current ? spec.path : '/dev/null', to: spec.path }) || undefined;
  const attrs = current && status === 'updated' && !diff && !spec.secret ? ` (${attributeChange(current, spec)})` : '';
  if (status !== 'unchanged' && !ctx.dryRun) await write(run, spec, ctx.host.name);
  reportChange(ctx.log, { what: `${what}${attrs}`, status, predicted: ctx.dryRun && status !== 'unchanged', ...(diff ? { diff } : {}) });
  return { status, ...(diff ? { diff } : {}), previous: current?.content ?? null };
}

async function readCurrent(run: (c: Command, o?: ExecOptions) => Promise<ExecResult>, path: string, host: string): Promise<CurrentFile | undefined> {
  // One round trip: a stat line (or nothing when there is no file), then the bytes.
  const result = await run(cmd`if test -e ${path}; then stat -L -c '%a %U %G' ${path} && cat -- ${path}; else exit 3; fi`, {
    nothrow: true,
    quiet: true,
    readOnly: true,
  });
  if (result.code === 3) return undefined;
  if (!result.ok) {
    throw new DeployrError(`cannot read ${path}: ${result.stderr.trim() || `exit ${String(result.code)}`}`, {
      host,
      hint: 'check the path and that the login user (or sudo: true, for files of root) may read it',
    });
  }
  const newline = result.stdout.indexOf('\n');
  const [mode = '644', owner = '', group = ''] = result.stdout.slice(0, newline).split(' ');
  return { mode: parseInt(mode, 8), owner, group, content: result.stdout.slice(newline + 1) };
}

function differs(current: CurrentFile, spec: FileSpec): boolean {
  return (
    current.content !== spec.content ||
    (spec.mode !== undefined && current.mode !== spec.mode) ||
    (spec.owner !== undefined && current.owner !== spec.owner) ||
    (spec.group !== undefined && current.group !== spec.group)
  );
}

function attributeChange(current: CurrentFile, spec: FileSpec): string {
  const parts: string[] = [];
  if (spec.mode !== undefined && current.mode !== spec.mode) parts.push(`mode ${current.mode.toString(8)} → ${spec.mode.toString(8)}`);
  if (spec.owner !== undefined && current.owner !== spec.owner) parts.push(`owner ${current.owner} → ${spec.owner}`);
  if (spec.group !== undefined && current.group !== spec.group) parts.push(`group ${current.group} → ${spec.group}`);
  return parts.join(', ');
}

async function write(run: (c: Command, o?: ExecOptions) => Promise<ExecResult>, spec: FileSpec, host: string): Promise<void> {
  const temp = `${spec.path}.deployr-${randomUUID().slice(0, 8)}`;
  const mode = spec.mode === undefined ? cmd`mode=$(if test -e ${spec.path}; then stat -L -c %a ${spec.path}; else echo 644; fi)` : cmd`mode=${spec.mode.toString(8)}`;
  const steps: Command[] = [cmd`umask 077`, mode, cmd`cat > ${temp}`, cmd`chmod "$mode" ${temp}`];
  if (spec.owner !== undefined || spec.group !== undefined) steps.push(cmd`chown ${`${spec.owner ?? ''}${spec.group === undefined ? '' : `:${spec.group}`}`} ${temp}`);
  const written = await run(and(...steps), { stdin: spec.content, nothrow: true });
  if (!written.ok) {
    await run(cmd`rm -f ${temp}`, { nothrow: true, timeout: 5_000 }).catch(() => undefined);
    throw new DeployrError(`cannot write ${spec.path}: ${written.stderr.trim() || `exit ${String(written.code)}`}`, {
      host,
      hint: spec.sudo ? 'check that sudo works for the login user and that the directory exists' : 'check that the directory exists and the login user may write it (or set sudo: true)',
    });
  }
  if (spec.validate) {
    // quiet: its messages name the temp file; the error below names the real one.
    const checked = await run(spec.validate(temp), { nothrow: true, quiet: true });
    if (!checked.ok) {
      await run(cmd`rm -f ${temp}`, { nothrow: true, timeout: 5_000 }).catch(() => undefined);
      const output = `${checked.stdout}${checked.stderr}`.trim().replaceAll(temp, spec.path);
      throw new DeployrError(`${spec.path} was not changed: the new content failed its check${output ? `:\n${output}` : ''}`, {
        host,
        hint: 'fix the content (see the checker output above); the file on the host is as it was',
      });
    }
  }
  await run(cmd`mv -f ${temp} ${spec.path}`);
}

import { and, DeployrError, reportChange, unifiedDiff, type ChangeStatus, type TaskContext } from 'deployr';
import { createCommand, hasRequirements, installCommand, linkCommand, markCommand, removeCommand } from './build.js';
import { describe, hashOf, markerOf, pipOptions, shown, type Fingerprint } from './fingerprint.js';
import { hashLocally, readInputs, readVenvs, type VenvState } from './inspect.js';
import { join, linkPath, venvPathFor } from './layout.js';
import type { VirtualenvSettings } from './options.js';
import { pipFailure, venvFailure } from './pip-failure.js';

type Ctx = Pick<TaskContext, 'host' | 'log' | 'dryRun' | 'signal'>;

export interface VenvTarget {
  /** deployTo, absolute on the host. */
  readonly deployTo: string;
  /** The release (absolute): requirements are read and pip runs there. */
  readonly release: string;
  /** This machine's copy of the release's files (`release.source`), to read requirements under --dry-run. */
  readonly localSource?: string;
  /** Point `<release>/<dir>` at the venv: a new release needs its link; one rolled back to has it. */
  readonly link: boolean;
}

export interface VenvOutcome {
  /** The venv, absolute; undefined when --dry-run could not tell which. */
  readonly venv?: string;
  readonly status: ChangeStatus | 'unknown';
}

/** What to do with the venv at the fingerprint's place, and why. */
export interface Plan {
  readonly action: 'none' | 'create' | 'install';
  readonly status: ChangeStatus;
  readonly why: string;
}

/**
 * Decides from what the host has: nothing there or unfinished → make it;
 * another Python → make it again (venvs hold the interpreter's path and
 * version); other requirements → install them (shared scope: in place).
 */
export function planFor(scope: VirtualenvSettings['scope'], state: VenvState, fingerprint: Fingerprint, hash: string): Plan {
  const found = state.runnable || state.version !== undefined || state.marker !== undefined;
  const python = fingerprint.python;
  if (!found) return { action: 'create', status: 'created', why: 'no venv there yet' };
  if (state.version !== python.version) return { action: 'create', status: 'updated', why: `Python ${state.version ?? '(unknown)'} → ${python.version}` };
  if (state.marker && state.marker.python.executable !== python.executable) {
    return { action: 'create', status: 'updated', why: `interpreter ${state.marker.python.executable} → ${python.executable}` };
  }
  if (!state.runnable) return { action: 'create', status: 'updated', why: 'its bin/python does not run' };
  if (!state.marker) return { action: 'create', status: 'updated', why: 'unfinished (or not made by deployr)' };
  if (state.marker.hash !== hash) {
    return scope === 'shared'
      ? { action: 'install', status: 'updated', why: 'requirements changed' }
      : { action: 'create', status: 'updated', why: 'its contents do not match its name' };
  }
  return { action: 'none', status: 'unchanged', why: 'up to date' };
}

/**
 * Makes the venv for a release match its requirements, changing nothing
 * when it already does: two read-only commands (interpreter and requirements;
 * the venv), then only what the plan needs — `python -m venv`, `pip install`,
 * the marker — and the release's link. Reports `venv <path>: created |
 * updated | unchanged` (or what it would do, under --dry-run).
 */
export async function ensureVenv(ctx: Ctx, settings: VirtualenvSettings, target: VenvTarget): Promise<VenvOutcome> {
  const { host, signal } = ctx;
  const inputs = await readInputs(host, settings.python, target.release, settings.requirements, signal);
  const sums =
    inputs.requirements ?? (ctx.dryRun && target.localSource !== undefined ? await hashLocally(target.localSource, settings.requirements) : undefined);
  if (sums === undefined && !ctx.dryRun) {
    throw new DeployrError(`the release ${target.release} is not on the host`, { host: host.name, hint: 'the virtualenv plugin builds venvs in the "deploy" hook, once the release is there' });
  }
  if (sums === undefined) {
    ctx.log.info(`venv: cannot tell what would change: the release's requirements files are neither on the host nor on this machine under --dry-run`);
    return { status: 'unknown' };
  }
  const fingerprint: Fingerprint = {
    python: inputs.python,
    requirements: settings.requirements.map((path, index) => ({ path, sha256: sums[index] as string })),
    packages: settings.packages,
    pip: shown(pipOptions(settings)),
  };
  const hash = hashOf(fingerprint);
  const venvPath = venvPathFor(settings, hash);
  const venv = join(target.deployTo, venvPath);
  // Release scope: the current release's venv is what this one replaces, worth a diff when it differs.
  const currentLink = join(target.deployTo, `current/${linkPath(settings.dir)}`);
  const [state, current] = await readVenvs(host, settings.scope === 'release' ? [venv, currentLink] : [venv], signal);
  const plan = planFor(settings.scope, state as VenvState, fingerprint, hash);
  const diff = plan.status === 'unchanged' ? '' : diffFrom(state as VenvState, current, fingerprint, venvPath);
  if (plan.status !== 'unchanged') ctx.log.debug(`venv ${venvPath}: ${plan.why}`);

  if (!ctx.dryRun) {
    if (plan.action === 'create') {
      const made = await host.exec(createCommand(settings.python, venv), { nothrow: true, signal });
      if (!made.ok) throw venvFailure(host.name, venvPath, settings.python, `${made.stdout}\n${made.stderr}`);
    }
    if (plan.action !== 'none' && hasRequirements(settings.requirements, settings.packages)) {
      const pip = installCommand(venv, pipOptions(settings), settings.requirements, settings.packages);
      const installed = await host.cd(target.release).exec(pip, { nothrow: true, signal });
      if (!installed.ok) {
        // A release-scope venv nobody links to yet goes now; a shared one keeps its old marker, so the next deploy installs again.
        if (settings.scope === 'release') await host.exec(removeCommand(venv), { nothrow: true, timeout: 30_000 }).catch(() => undefined);
        throw pipFailure(host.name, venvPath, `${installed.stdout}\n${installed.stderr}`, installed.code, indexOf(settings));
      }
    }
    // The marker last: a venv without one is unfinished, whatever stopped its making.
    const finish = [...(plan.action === 'none' ? [] : [markCommand(venv, markerOf(fingerprint))]), ...(target.link ? [linkCommand(target.release, settings.dir, venvPath)] : [])];
    if (finish.length > 0) await host.exec(and(...finish), { signal });
  }
  reportChange(ctx.log, { what: `venv ${venvPath}`, status: plan.status, predicted: ctx.dryRun && plan.status !== 'unchanged', ...(diff ? { diff } : {}) });
  return { venv, status: plan.status };
}

/** The diff a change report shows: what the venv (or, for a new one, the current release's) was made from, and what it is made from now. */
function diffFrom(state: VenvState, current: VenvState | undefined, fingerprint: Fingerprint, venvPath: string): string {
  // pyvenv.cfg says which Python the venv really has; the marker only what it was made with.
  const own = state.marker ? { ...state.marker, python: { ...state.marker.python, version: state.version ?? state.marker.python.version } } : undefined;
  const before = own ?? current?.marker;
  if (!before) return '';
  return unifiedDiff(describe(before), describe(fingerprint), { from: own ? venvPath : 'venv of the current release', to: venvPath });
}

/** Where pip looks, for a hint. */
function indexOf(settings: VirtualenvSettings): string {
  const links = settings.findLinks.length > 0 ? `findLinks (${shown(settings.findLinks).join(', ')})` : '';
  if (settings.noIndex) return links;
  const index = settings.indexUrl === undefined ? "pip's index (PyPI, or pip.conf)" : String(settings.indexUrl);
  return links ? `${index} or ${links}` : index;
}

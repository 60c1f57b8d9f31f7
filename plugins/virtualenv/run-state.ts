import type { SharedState } from 'deployr';
import type { VirtualenvSettings } from './options.js';

/** A venv a deploy made or found on one host: what the helper points tasks at afterwards. */
export interface BuiltVenv {
  /** The release directory (absolute) the venv was linked into. */
  readonly release: string;
  /** The venv itself (absolute). */
  readonly venv: string;
}

/** What this plugin knows during one run: its configured venvs, and per host where things are. */
export interface VenvRun {
  /** Every virtualenv() of the config, by name. */
  readonly configured: Map<string, VirtualenvSettings>;
  /** Host → deployTo as an absolute path there. */
  readonly deployTo: Map<string, string>;
  /** `<name>\0<host>` → the venv a deploy made or found there in this run. */
  readonly built: Map<string, BuiltVenv>;
}

const runs = new WeakMap<SharedState, VenvRun>();

/** This run's state; made by the first tap that asks (ctx.shared lives exactly one run). */
export function venvRun(shared: SharedState): VenvRun {
  let run = runs.get(shared);
  if (!run) {
    run = { configured: new Map(), deployTo: new Map(), built: new Map() };
    runs.set(shared, run);
  }
  return run;
}

export function builtKey(name: string, host: string): string {
  return `${name}\0${host}`;
}

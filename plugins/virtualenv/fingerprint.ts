import { createHash } from 'node:crypto';
import type { Secret } from 'deployr';
import type { VirtualenvSettings } from './options.js';

/** The interpreter a venv is made with, as the host reports it. */
export interface PythonInfo {
  /** `3.11.2`: what pyvenv.cfg records as `version`. */
  readonly version: string;
  /** The real path of the interpreter (symlinks resolved): `/usr/bin/python3.11`. */
  readonly executable: string;
}

/** Everything that decides what a venv holds. Two venvs with the same fingerprint are interchangeable. */
export interface Fingerprint {
  readonly python: PythonInfo;
  /** Each requirements file (relative to the release) and the sha256 of its contents. */
  readonly requirements: ReadonlyArray<{ readonly path: string; readonly sha256: string }>;
  readonly packages: readonly string[];
  /** pip's index options and pipArgs, in the order pip gets them. */
  readonly pip: readonly string[];
}

/** What the plugin writes into a venv once it is complete: `<venv>/.deployr-venv.json`, one line of JSON. */
export interface Marker extends Fingerprint {
  readonly format: 1;
  readonly hash: string;
}

export const MARKER_FILE = '.deployr-venv.json';

/**
 * pip's index options, from the settings: `--index-url`, `--no-index`,
 * `--find-links` each, then pipArgs. Secrets stay secrets here, for the
 * command; the fingerprint holds them as `***` (see `shown`), so a rotated
 * token rebuilds nothing and no token is written to a host's marker.
 */
export function pipOptions(settings: VirtualenvSettings): Array<string | Secret> {
  return [
    ...(settings.indexUrl === undefined ? [] : ['--index-url', settings.indexUrl]),
    ...(settings.noIndex ? ['--no-index'] : []),
    ...settings.findLinks.flatMap((link) => ['--find-links', link]),
    ...settings.pipArgs,
  ];
}

/** Options as logs show them: secrets masked. */
export function shown(options: ReadonlyArray<string | Secret>): string[] {
  return options.map((option) => String(option));
}

/** sha256 of the fingerprint, hex. Release-scope venvs are named by its first 16 digits. */
export function hashOf(fingerprint: Fingerprint): string {
  const { python, requirements, packages, pip } = fingerprint;
  const canonical = JSON.stringify({ format: 1, python: { version: python.version, executable: python.executable }, requirements, packages, pip });
  return createHash('sha256').update(canonical).digest('hex');
}

export function markerOf(fingerprint: Fingerprint): Marker {
  return { format: 1, hash: hashOf(fingerprint), python: fingerprint.python, requirements: fingerprint.requirements, packages: fingerprint.packages, pip: fingerprint.pip };
}

/** A marker read back from a host, or undefined when it is not one of ours (or from a newer format). */
export function parseMarker(text: string | undefined): Marker | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Marker>;
    if (value.format !== 1 || typeof value.hash !== 'string' || typeof value.python?.version !== 'string') return undefined;
    return {
      format: 1,
      hash: value.hash,
      python: { version: value.python.version, executable: String(value.python.executable ?? '') },
      requirements: Array.isArray(value.requirements) ? value.requirements : [],
      packages: Array.isArray(value.packages) ? value.packages : [],
      pip: Array.isArray(value.pip) ? value.pip : [],
    };
  } catch {
    return undefined;
  }
}

/**
 * A fingerprint as lines, for the diff a change report shows: which
 * requirements file changed, which Python replaced which.
 */
export function describe(fingerprint: Fingerprint): string {
  const lines = [`python ${fingerprint.python.version} (${fingerprint.python.executable})`];
  for (const file of fingerprint.requirements) lines.push(`requirements ${file.path} sha256:${file.sha256.slice(0, 12)}`);
  for (const spec of fingerprint.packages) lines.push(`package ${spec}`);
  if (fingerprint.pip.length > 0) lines.push(`pip ${fingerprint.pip.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

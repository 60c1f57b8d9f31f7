import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cmd, DeployrError, type Host } from 'deployr';
import { MARKER_FILE, parseMarker, type Marker, type PythonInfo } from './fingerprint.js';

// One line of JSON, marked, so a sitecustomize that prints cannot be mistaken for it.
// `version` is spelt as pyvenv.cfg spells it.
const PROBE =
  'import json, os, sys; print("deployr-python " + json.dumps({"version": "%d.%d.%d" % sys.version_info[:3], "executable": os.path.realpath(sys.executable)}))';

export interface Inputs {
  readonly python: PythonInfo;
  /** sha256 of each requirements file, in the order given; undefined when the release is not on the host (--dry-run). */
  readonly requirements: readonly string[] | undefined;
}

/**
 * Reads, in one read-only command: the chosen interpreter's version and
 * real path, and the sha256 of each requirements file in the release.
 * A missing interpreter or file is an error that says what to do.
 */
export async function readInputs(host: Host, python: string, release: string, requirements: readonly string[], signal?: AbortSignal): Promise<Inputs> {
  const hashes =
    requirements.length === 0
      ? cmd`:`
      : cmd`for f in ${requirements}; do if [ -f "$f" ]; then sha256sum < "$f"; else echo missing; fi; done`;
  const script = cmd`${python} -c ${PROBE}; echo "deployr-python-exit $?"; if cd ${release} 2>/dev/null; then echo deployr-release; ${hashes}; fi`;
  const result = await host.exec(script, { readOnly: true, quiet: true, nothrow: true, ...(signal ? { signal } : {}) });
  const lines = result.stdout.split('\n');
  const probe = lines.find((line) => line.startsWith('deployr-python {'));
  if (!probe) {
    const exit = lines.find((line) => line.startsWith('deployr-python-exit '))?.slice('deployr-python-exit '.length) ?? '?';
    const why = result.stderr.trim().split('\n').slice(-3).join('\n') || `exit ${exit}`;
    throw new DeployrError(`cannot run ${python}: ${why}`, {
      host: host.name,
      hint:
        exit === '127'
          ? `install Python on the host (Debian/Ubuntu: python3 and python3-venv), or point the python option at an interpreter it has`
          : `check that "${python} -c 'import sys'" works for the login user on the host`,
    });
  }
  const info = JSON.parse(probe.slice('deployr-python '.length)) as PythonInfo;
  const at = lines.indexOf('deployr-release');
  if (at < 0) return { python: info, requirements: undefined };
  const sums = lines.slice(at + 1, at + 1 + requirements.length).map((line) => line.slice(0, 64));
  const missing = requirements.filter((_, index) => sums[index] === 'missing' || !/^[0-9a-f]{64}$/.test(sums[index] ?? ''));
  if (missing.length > 0) {
    throw new DeployrError(`requirements file${missing.length > 1 ? 's' : ''} ${missing.map((file) => `"${file}"`).join(', ')} not found in the release (${release})`, {
      host: host.name,
      hint: 'ship it with the release (check release.source and ignore rules), or fix the requirements option: its paths are relative to the release',
    });
  }
  return { python: info, requirements: sums };
}

/**
 * Under --dry-run the new release is not on the host, so the requirements
 * files are hashed where they are shipped from: `release.source` on this
 * machine. (A plugin that fills releases on the hosts, such as a git
 * checkout there, leaves nothing to read: undefined.)
 */
export async function hashLocally(dir: string, requirements: readonly string[]): Promise<string[] | undefined> {
  try {
    return await Promise.all(requirements.map(async (file) => createHash('sha256').update(await readFile(path.join(dir, file))).digest('hex')));
  } catch {
    return undefined;
  }
}

/** What a venv directory on the host holds. */
export interface VenvState {
  /** `bin/python` exists and its target too. */
  readonly runnable: boolean;
  /** `version` (or `version_info`) of pyvenv.cfg, as x.y.z. */
  readonly version?: string;
  readonly executable?: string;
  /** Our marker: the venv was completed by this plugin, for this fingerprint. */
  readonly marker?: Marker;
}

/** Reads several venv directories (absolute paths) in one read-only command. */
export async function readVenvs(host: Host, venvs: readonly string[], signal?: AbortSignal): Promise<VenvState[]> {
  const script = cmd`for v in ${venvs}; do echo deployr-venv; if [ -x "$v/bin/python" ]; then echo deployr-runnable; fi; sed -n -E -e 's/^version(_info)? *= */deployr-version /p' -e 's/^executable *= */deployr-executable /p' "$v/pyvenv.cfg" 2>/dev/null; sed -n -e '1s/^/deployr-marker /p' "$v/"${MARKER_FILE} 2>/dev/null; done; true`;
  const { stdout } = await host.exec(script, { readOnly: true, quiet: true, ...(signal ? { signal } : {}) });
  const blocks = stdout.split('deployr-venv\n').slice(1);
  return venvs.map((_, index) => parseVenv(blocks[index] ?? ''));
}

function parseVenv(block: string): VenvState {
  const field = (name: string): string | undefined =>
    block
      .split('\n')
      .find((line) => line.startsWith(`deployr-${name} `))
      ?.slice(`deployr-${name} `.length)
      .trim();
  // version_info (uv, newer CPythons) reads 3.12.1.final.0: the first three numbers are the version.
  const version = /^(\d+\.\d+\.\d+)/.exec(field('version') ?? '')?.[1];
  const executable = field('executable');
  const marker = parseMarker(field('marker'));
  return {
    runnable: block.split('\n').includes('deployr-runnable'),
    ...(version === undefined ? {} : { version }),
    ...(executable === undefined ? {} : { executable }),
    ...(marker === undefined ? {} : { marker }),
  };
}

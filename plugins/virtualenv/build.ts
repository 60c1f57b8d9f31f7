import { posix } from 'node:path';
import { and, cmd, type Command, type Secret } from 'deployr';
import { MARKER_FILE, type Marker } from './fingerprint.js';
import { join, linkPath, linkTarget } from './layout.js';

/** Removes whatever is at `venv` (a half-built or outdated venv) and makes a fresh one there. */
export function createCommand(python: string, venv: string): Command {
  return and(cmd`rm -rf -- ${venv}`, cmd`mkdir -p -- ${posix.dirname(venv)}`, cmd`${python} -m venv ${venv}`);
}

/**
 * `pip install` into the venv, run in the release so requirements files and
 * relative --find-links resolve there. Never asks, never checks PyPI for a
 * newer pip (that would wait on the network behind a firewall).
 */
export function installCommand(venv: string, pip: ReadonlyArray<string | Secret>, requirements: readonly string[], packages: readonly string[]): Command {
  const args = ['install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', ...pip, ...requirements.flatMap((file) => ['-r', file]), ...packages];
  return cmd`${join(venv, 'bin/python')} -m pip ${args}`;
}

/** Whether pip has anything to do. */
export function hasRequirements(requirements: readonly string[], packages: readonly string[]): boolean {
  return requirements.length > 0 || packages.length > 0;
}

/** Written last: a venv without it is unfinished and is made again. One line of JSON. */
export function markCommand(venv: string, marker: Marker): Command {
  return cmd`printf '%s\\n' ${JSON.stringify(marker)} > ${join(venv, MARKER_FILE)}`;
}

/** `<release>/<dir>` → the venv; whatever the release had there (a shipped .venv) is replaced. */
export function linkCommand(release: string, dir: string, venvPath: string): Command {
  const link = join(release, linkPath(dir));
  return and(cmd`rm -rf -- ${link}`, cmd`mkdir -p -- ${posix.dirname(link)}`, cmd`ln -s -- ${linkTarget(dir, venvPath)} ${link}`);
}

/** Removes a venv (one that failed to build, or that no release links to any more). */
export function removeCommand(venvs: string | readonly string[]): Command {
  return cmd`rm -rf -- ${venvs}`;
}

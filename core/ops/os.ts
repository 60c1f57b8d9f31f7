import { cmd, joinCommands, type Command } from '../command/index.js';
import type { Host } from '../connection/host.js';
import type { TaskContext } from '../engine/context.js';
import { DeployrError } from '../errors.js';
import { reportChange } from './change.js';

/** The package managers deployr knows, by the OS families that use them. */
export type PackageManager = 'apt' | 'dnf' | 'apk';

export interface OsInfo {
  /** `ID` of /etc/os-release: debian, ubuntu, rocky, alpine… */
  readonly id: string;
  /** `ID_LIKE`, split: ['rhel', 'centos', 'fedora'] */
  readonly idLike: readonly string[];
  readonly versionId?: string;
  readonly prettyName?: string;
  readonly packageManager: PackageManager;
}

const FAMILIES: ReadonlyArray<[PackageManager, readonly string[]]> = [
  ['apt', ['debian', 'ubuntu', 'raspbian', 'linuxmint', 'pop']],
  ['dnf', ['rhel', 'fedora', 'centos', 'rocky', 'almalinux', 'ol', 'amzn']],
  ['apk', ['alpine']],
];

/** Parses /etc/os-release (shell-style KEY=value lines, values maybe quoted). */
export function parseOsRelease(text: string, host?: string): OsInfo {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    let value = match[2] as string;
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1).replace(/\\(["$`\\])/g, '$1');
    fields.set(match[1] as string, value);
  }
  const id = fields.get('ID') ?? '';
  const idLike = (fields.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean);
  const family = FAMILIES.find(([, ids]) => [id, ...idLike].some((name) => ids.includes(name)))?.[0];
  if (!family) {
    throw new DeployrError(`unsupported OS "${fields.get('PRETTY_NAME') ?? (id || 'unknown')}": /etc/os-release names no apt, dnf or apk family (ID=${id || '?'}, ID_LIKE=${idLike.join(' ') || '?'})`, {
      ...(host === undefined ? {} : { host }),
      hint: 'deployr bootstraps Debian/Ubuntu (apt), RHEL/Fedora/Rocky/Alma (dnf) and Alpine (apk); prepare this host by hand',
    });
  }
  const versionId = fields.get('VERSION_ID');
  const prettyName = fields.get('PRETTY_NAME');
  return { id, idLike, packageManager: family, ...(versionId ? { versionId } : {}), ...(prettyName ? { prettyName } : {}) };
}

/** Reads the host's /etc/os-release (also under --dry-run: it only reads). */
export async function detectOs(host: Host, signal?: AbortSignal): Promise<OsInfo> {
  const result = await host.exec(cmd`cat /etc/os-release`, { nothrow: true, quiet: true, readOnly: true, ...(signal ? { signal } : {}) });
  if (!result.ok) {
    throw new DeployrError('cannot read /etc/os-release: cannot tell which package manager this host uses', {
      host: host.name,
      hint: 'deployr knows hosts that have /etc/os-release (every current Linux distribution)',
    });
  }
  return parseOsRelease(result.stdout, host.name);
}

function forEach(packages: readonly string[], body: string): Command {
  // `for p in 'a' 'b'; do …; done`: every name quoted, the loop body is ours.
  return joinCommands(' ', [cmd`for p in ${packages}; do`, `${body}; done`]);
}

/** Prints, one per line, the packages of `packages` that are not installed. Read-only. */
export function missingPackagesCommand(manager: PackageManager, packages: readonly string[]): Command {
  checkNames(packages);
  switch (manager) {
    case 'apt':
      return forEach(packages, `dpkg-query -W -f='\${Status}\\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"`);
    case 'dnf':
      return forEach(packages, `rpm -q --whatprovides "$p" >/dev/null 2>&1 || echo "$p"`);
    case 'apk':
      return forEach(packages, `apk info -e "$p" >/dev/null 2>&1 || echo "$p"`);
  }
}

/**
 * Installs packages, non-interactively. apt waits for another apt to finish
 * (a fresh cloud host runs unattended-upgrades) and refreshes its lists
 * only when a package cannot be found without that.
 */
export function installPackagesCommand(manager: PackageManager, packages: readonly string[]): Command {
  checkNames(packages);
  switch (manager) {
    case 'apt': {
      const install = cmd`DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 -- ${packages}`;
      return joinCommands(' ', [install, cmd`|| { apt-get update -q -o DPkg::Lock::Timeout=300 &&`, install, cmd`; }`]);
    }
    case 'dnf':
      return cmd`dnf install -y -q -- ${packages}`;
    case 'apk':
      return cmd`apk add --no-cache -q -- ${packages}`;
  }
}

const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+._:=~-]*$/;

function checkNames(packages: readonly string[]): void {
  for (const name of packages) {
    if (!PACKAGE_NAME.test(name)) {
      throw new DeployrError(`"${name}" is not a package name`, { hint: 'package names are letters, digits and + . _ : = ~ -, e.g. "python3-venv"' });
    }
  }
}

/**
 * Installs what is missing of `packages` with the host's package manager
 * and reports each package: `package x: unchanged` or `package x: installed`;
 * under --dry-run only what would be installed. Returns the packages that
 * were (or would be) installed. The install runs through sudo unless
 * `sudo: false` (logged in as root on a fresh host that has no sudo yet).
 */
export async function ensurePackages(
  ctx: Pick<TaskContext, 'host' | 'log' | 'dryRun' | 'signal'>,
  packages: readonly string[],
  options: { os?: OsInfo; sudo?: boolean } = {},
): Promise<string[]> {
  if (packages.length === 0) return [];
  const os = options.os ?? (await detectOs(ctx.host, ctx.signal));
  const query = await ctx.host.exec(missingPackagesCommand(os.packageManager, packages), { readOnly: true, quiet: true, signal: ctx.signal });
  const missing = query.stdout.split('\n').map((line) => line.trim()).filter(Boolean);
  if (missing.length > 0 && !ctx.dryRun) {
    const install = installPackagesCommand(os.packageManager, missing);
    await (options.sudo === false ? ctx.host.exec(install, { signal: ctx.signal }) : ctx.host.sudo(install, { signal: ctx.signal }));
  }
  for (const name of packages) {
    reportChange(ctx.log, { what: `package ${name}`, status: missing.includes(name) ? 'installed' : 'unchanged', predicted: ctx.dryRun && missing.includes(name) });
  }
  return missing;
}

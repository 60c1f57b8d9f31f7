import { environmentSchema } from './config-schema.js';
import { extendsChain } from './extends-chain.js';
import { hostNameOf } from './host-entry.js';
import { indexPath, keyPath, type Issue } from './schema/issue.js';
import { closest, didYouMean } from '../util/did-you-mean.js';
import type { EnvironmentConfig, HostEntry } from './types.js';

/**
 * Rules that span fields, which a per-field schema cannot see: `extends`
 * targets and cycles, hosts after inheritance, duplicate host names, roles
 * no host has. They run on the raw value next to the schema, so every
 * problem is reported in one go; wrong types are the schema's to report and
 * are skipped here.
 */
export function checkConfigRules(value: unknown): { issues: Issue[]; warnings: string[] } {
  const issues: Issue[] = [];
  const warnings: string[] = [];
  if (!isObject(value) || !isObject(value.environments)) return { issues, warnings };
  const environments = value.environments as Record<string, EnvironmentConfig>;
  const names = Object.keys(environments);
  if (names.length === 0) {
    issues.push({ path: 'environments', message: "no environments; add one, e.g. prod: { hosts: ['deploy@web-1'] }" });
  }
  for (const name of names) {
    const env = environments[name];
    if (!isObject(env)) continue;
    issues.push(...checkEnvironment(environments, name, names));
  }
  warnings.push(...unusedRoles(value.tasks, environments));
  return { issues, warnings };
}

function checkEnvironment(environments: Record<string, EnvironmentConfig>, name: string, names: string[]): Issue[] {
  const issues: Issue[] = [];
  const path = keyPath('environments', name);
  const env = environments[name] as EnvironmentConfig;
  const result = extendsChain(environments, name);
  if (!result.ok) {
    // Reported once each: by the environment naming the unknown base; by the cycle member first in alphabetical order.
    if ('unknown' in result && result.chain[result.chain.length - 1] === name) {
      const hint = didYouMean(result.unknown, names) || ` (environments: ${names.join(', ')})`;
      issues.push({ path: keyPath(path, 'extends'), message: `unknown environment '${result.unknown}'${hint}` });
    }
    if ('cycle' in result && [...result.cycle].sort()[0] === name && result.cycle[0] === name) {
      issues.push({ path: keyPath(path, 'extends'), message: `extends cycle: ${result.cycle.join(' → ')}` });
    }
    return issues;
  }
  const chain = result.chain.map((n) => environments[n] as EnvironmentConfig);
  const hosts = chain.find((e) => isObject(e) && e.hosts !== undefined)?.hosts;
  const connect = chain.find((e) => isObject(e) && e.connect !== undefined)?.connect;
  if (connect !== 'local' && (hosts === undefined || (Array.isArray(hosts) && hosts.length === 0)) && !misspeltHosts(env)) {
    const where = result.chain.length > 1 ? ` (nor in ${result.chain.slice(1).map((n) => `'${n}'`).join(', ')})` : '';
    issues.push({ path: keyPath(path, 'hosts'), message: `no hosts${where}; list them, or set connect: 'local' to run on this machine` });
  }
  if (Array.isArray(env.hosts)) issues.push(...duplicateHosts(env.hosts, keyPath(path, 'hosts')));
  return issues;
}

/** `hots:` is reported as an unknown key with its did-you-mean; "no hosts" on top would say the same twice. */
function misspeltHosts(env: EnvironmentConfig): boolean {
  const known = Object.keys(environmentSchema.shape);
  return Object.keys(env).some((key) => !known.includes(key) && closest(key, known) === 'hosts');
}

function duplicateHosts(hosts: unknown[], path: string): Issue[] {
  const issues: Issue[] = [];
  const first = new Map<string, number>();
  hosts.forEach((entry, index) => {
    const name = safeHostName(entry);
    if (name === undefined) return;
    const seen = first.get(name);
    if (seen === undefined) first.set(name, index);
    else issues.push({ path: indexPath(path, index), message: `duplicate host name '${name}' (also hosts[${seen}]); give one of them a different name` });
  });
  return issues;
}

/** The host's name, or undefined when the entry is malformed (the schema reports that). */
function safeHostName(entry: unknown): string | undefined {
  if (typeof entry !== 'string' && !(isObject(entry) && typeof entry.address === 'string')) return undefined;
  try {
    const name = hostNameOf(entry as HostEntry);
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

function unusedRoles(tasks: unknown, environments: Record<string, EnvironmentConfig>): string[] {
  if (!isObject(tasks)) return [];
  const known = new Set<string>();
  for (const env of Object.values(environments)) {
    if (!isObject(env) || !Array.isArray(env.hosts)) continue;
    for (const host of env.hosts as unknown[]) {
      if (isObject(host) && Array.isArray(host.roles)) for (const role of host.roles) known.add(String(role));
    }
  }
  const warnings: string[] = [];
  for (const [name, entry] of Object.entries(tasks)) {
    if (!isObject(entry) || !Array.isArray(entry.roles)) continue;
    for (const role of entry.roles as unknown[]) {
      if (typeof role === 'string' && !known.has(role)) {
        warnings.push(`${keyPath(keyPath('tasks', name), 'roles')}: no host in any environment has the role '${role}', so this task runs nowhere`);
      }
    }
  }
  return warnings;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

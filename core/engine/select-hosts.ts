import type { ResolvedEnvironment, ResolvedHost } from '../config/resolved.js';
import { ConfigError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { SelectOptions } from './deployr.js';

/**
 * The hosts a run works on, in config order: enabled hosts, narrowed by
 * --hosts and --roles. A name or role that matches nothing is a usage error,
 * never an empty run that looks like success.
 */
export function selectHosts(environment: ResolvedEnvironment, options: SelectOptions = {}): ResolvedHost[] {
  const all = environment.hosts;
  let selected = all.filter((host) => !host.disabled);
  const names = options.hosts?.filter(Boolean) ?? [];
  if (names.length > 0) {
    const known = all.map((host) => host.name);
    for (const name of names) {
      const host = all.find((candidate) => candidate.name === name);
      if (!host) {
        throw new ConfigError(`There is no host "${name}" in environment "${environment.name}"${didYouMean(name, known)}`, {
          hint: `its hosts are: ${known.join(', ')}`,
        });
      }
      if (host.disabled) {
        throw new ConfigError(`Host "${name}" is disabled in environment "${environment.name}"`, {
          hint: 'remove `disabled: true` from it in deploy.config.ts to deploy to it',
        });
      }
    }
    selected = selected.filter((host) => names.includes(host.name));
  }
  const roles = options.roles?.filter(Boolean) ?? [];
  if (roles.length > 0) {
    const knownRoles = new Set(all.flatMap((host) => host.roles));
    for (const role of roles) {
      if (!knownRoles.has(role)) {
        throw new ConfigError(`No host of environment "${environment.name}" has role "${role}"${didYouMean(role, knownRoles)}`, {
          hint: knownRoles.size ? `its roles are: ${[...knownRoles].join(', ')}` : 'give hosts roles in deploy.config.ts: { address, roles: ["web"] }',
        });
      }
    }
    selected = selected.filter((host) => host.roles.some((role) => roles.includes(role)));
  }
  if (selected.length === 0) {
    throw new ConfigError(`No host of environment "${environment.name}" is selected`, {
      hint: all.length ? 'check --hosts/--roles, and hosts marked `disabled: true`' : 'add hosts to it in deploy.config.ts',
    });
  }
  return selected;
}

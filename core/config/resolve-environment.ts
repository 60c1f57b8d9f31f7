import { secret } from '../command/secret.js';
import type { SshOptions } from '../connection/ssh/options.js';
import { ConfigError } from '../errors.js';
import { extendsChain } from './extends-chain.js';
import { hostConfigOf } from './host-entry.js';
import { DEFAULT_CONCURRENCY, DEFAULT_KEEP_RELEASES, type ResolvedEnvironment, type ResolvedHost } from './resolved.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { DeployrConfig, EnvironmentConfig, HostEntry, ReleaseSettings, Vars } from './types.js';

/** The environments a config defines, in the order written. */
export function environmentNames(config: DeployrConfig): string[] {
  return Object.keys(config.environments);
}

/**
 * One environment with `extends` followed and the config's shared settings
 * applied. Precedence, least to most specific: the config, then the
 * environments it extends (the farthest first), then the environment
 * itself, then (for vars and ssh) each host. `vars` and `ssh` merge key by
 * key; any other setting is taken whole from the most specific level that
 * sets it. Hosts are inherited unless the environment lists its own.
 */
export function resolveEnvironment(config: DeployrConfig, name: string): ResolvedEnvironment {
  const names = environmentNames(config);
  if (!Object.hasOwn(config.environments, name)) {
    throw new ConfigError(`Unknown environment '${name}'${didYouMean(name, names)}`, {
      hint: names.length > 0 ? `use one of: ${names.join(', ')}` : 'add it under `environments` in the config',
    });
  }
  const result = extendsChain(config.environments, name);
  if (!result.ok) {
    // validateConfig reports these; a config that skipped validation still fails clearly.
    const problem = 'cycle' in result ? `extends cycle ${result.cycle.join(' → ')}` : `unknown environment "${result.unknown}" in extends`;
    throw new ConfigError(`Environment "${name}": ${problem}`, { hint: 'fix `extends` in the config' });
  }
  // Most specific first: the environment, its base, the base's base…
  const chain = result.chain.map((n) => config.environments[n] as EnvironmentConfig);
  const pick = <K extends keyof EnvironmentConfig>(key: K): EnvironmentConfig[K] | undefined => {
    for (const env of chain) if (env[key] !== undefined) return env[key];
    return key in config ? (config as EnvironmentConfig)[key] : undefined;
  };
  const leastFirst = [config, ...[...chain].reverse()];
  const vars: Vars = Object.assign({}, ...leastFirst.map((level) => level.vars ?? {}));
  const ssh: SshOptions = Object.assign({}, ...leastFirst.map((level) => level.ssh ?? {}));
  const release: ReleaseSettings = Object.assign({}, ...leastFirst.map((level) => level.release ?? {}));
  const connect = pick('connect') ?? 'ssh';
  const entries: readonly HostEntry[] = chain.find((env) => env.hosts !== undefined)?.hosts ?? [];
  const hosts =
    entries.length === 0 && connect === 'local'
      ? [localHost(vars, ssh)]
      : entries.map((entry) => resolveHost(entry, vars, ssh));

  const env = chain[0] as EnvironmentConfig;
  const deployTo = pick('deployTo');
  const commandTimeout = pick('commandTimeout');
  const sudoPassword = pick('sudoPassword');
  const confirm = pick('confirm');
  return {
    name,
    ...(env.description === undefined ? {} : { description: env.description }),
    connect,
    hosts,
    ...(deployTo === undefined ? {} : { deployTo }),
    keepReleases: pick('keepReleases') ?? DEFAULT_KEEP_RELEASES,
    release: Object.freeze(release),
    concurrency: pick('concurrency') ?? DEFAULT_CONCURRENCY,
    vars,
    ...(commandTimeout === undefined ? {} : { commandTimeout }),
    ...(sudoPassword === undefined ? {} : { sudoPassword: typeof sudoPassword === 'string' ? secret(sudoPassword, 'sudoPassword') : sudoPassword }),
    confirm: confirm === true ? `Continue with environment "${name}"?` : typeof confirm === 'string' ? confirm : false,
  };
}

/**
 * A host with its environment's vars and ssh under its own. The host's user
 * and port (from 'user@host:port', its fields, or its own ssh) are both its
 * fields and in its ssh settings, so a connector sees them either way.
 */
function resolveHost(entry: HostEntry, envVars: Vars, envSsh: SshOptions): ResolvedHost {
  const host = hostConfigOf(entry);
  const user = host.user ?? host.ssh?.user;
  const port = host.port ?? host.ssh?.port;
  const ssh: SshOptions = { ...envSsh, ...host.ssh, ...(user === undefined ? {} : { user }), ...(port === undefined ? {} : { port }) };
  return {
    name: host.name ?? host.address,
    address: host.address,
    ...(user === undefined ? {} : { user }),
    ...(port === undefined ? {} : { port }),
    roles: [...(host.roles ?? [])],
    vars: { ...envVars, ...host.vars },
    ssh,
    disabled: host.disabled ?? false,
  };
}

/** connect: 'local' with no hosts listed: this machine, as one host. */
function localHost(vars: Vars, ssh: SshOptions): ResolvedHost {
  return { name: 'local', address: 'localhost', roles: [], vars: { ...vars }, ssh: { ...ssh }, disabled: false };
}

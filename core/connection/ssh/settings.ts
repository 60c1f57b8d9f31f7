import { userInfo } from 'node:os';
import { ConfigError } from '../../errors.js';
import { resolveSshConfig, type ResolvedSshConfig } from './ssh-config.js';
import { SSH_DEFAULTS, type HostKeyPolicy, type ResolvedSshSettings, type SshTarget } from './options.js';

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? `${process.env.HOME ?? userInfo().homedir}${path.slice(1)}` : path;
}

function policyFrom(config: ResolvedSshConfig['strictHostKeyChecking']): HostKeyPolicy {
  // OpenSSH's 'no'/'off' would also accept changed keys; deployr never does, so the closest safe reading is accept-new.
  return config === 'accept-new' || config === 'no' || config === 'off' ? 'accept-new' : 'yes';
}

function agentFrom(explicit: string | false | undefined, config: string | undefined): string | undefined {
  if (explicit === false) return undefined;
  if (explicit) return expandHome(explicit);
  if (config && config !== 'SSH_AUTH_SOCK') return config === 'none' ? undefined : expandHome(config);
  return process.env.SSH_AUTH_SOCK || undefined;
}

/**
 * Applies ~/.ssh/config (via `ssh -G`) and defaults to a target. deployr's
 * own settings win over ~/.ssh/config, which wins over defaults.
 */
export async function resolveSshSettings(target: SshTarget): Promise<ResolvedSshSettings> {
  const ssh = target.ssh ?? {};
  const useConfig = ssh.useSshConfig !== false;
  const config: ResolvedSshConfig | undefined = useConfig
    ? await resolveSshConfig(target.address, ssh.sshConfigFile === undefined ? {} : { configFile: ssh.sshConfigFile })
    : undefined;

  if (config?.proxyCommand && ssh.proxyJump === undefined) {
    // Connecting directly instead would fail slowly and with a misleading hint.
    throw new ConfigError(`${target.name}: the SSH config (${ssh.sshConfigFile ?? '~/.ssh/config'}) sets ProxyCommand for "${target.address}", which deployr does not run`, {
      host: target.name,
      hint: 'use ProxyJump (or ssh.proxyJump) for bastions, or set ssh.useSshConfig: false to connect directly',
    });
  }
  const identityFiles = ssh.identityFile === undefined
    ? config?.identityFiles ?? []
    : (Array.isArray(ssh.identityFile) ? ssh.identityFile : [ssh.identityFile]).map(expandHome);
  const proxyJump = ssh.proxyJump === 'none' ? undefined : ssh.proxyJump ?? config?.proxyJump;
  const agent = agentFrom(ssh.agent, config?.identityAgent);
  const knownHostsFiles = [
    ...(ssh.knownHostsFiles ?? []).map(expandHome),
    ...(config?.userKnownHostsFiles ?? [expandHome('~/.ssh/known_hosts')]),
    ...(config?.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts']),
  ];
  const recordKnownHostsFile = ssh.recordKnownHostsFile ?? knownHostsFiles[0];

  return {
    name: target.name,
    hostname: config?.hostname ?? target.address,
    ...(config?.hostKeyAlias ? { hostKeyAlias: config.hostKeyAlias } : {}),
    port: target.port ?? ssh.port ?? config?.port ?? 22,
    user: target.user ?? ssh.user ?? config?.user ?? userInfo().username,
    identityFiles,
    ...(ssh.passphrase === undefined ? {} : { passphrase: ssh.passphrase }),
    ...(ssh.privateKey === undefined ? {} : { privateKey: ssh.privateKey }),
    ...(ssh.password === undefined ? {} : { password: ssh.password }),
    ...(agent === undefined ? {} : { agent }),
    ...(proxyJump === undefined ? {} : { proxyJump }),
    hostKeyFingerprints: ssh.hostKeyFingerprints ?? [],
    knownHostsFiles: [...new Set(knownHostsFiles)],
    ...(recordKnownHostsFile === undefined ? {} : { recordKnownHostsFile }),
    hashKnownHosts: config?.hashKnownHosts ?? false,
    strictHostKeyChecking: ssh.strictHostKeyChecking ?? policyFrom(config?.strictHostKeyChecking),
    connectTimeout: ssh.connectTimeout ?? (config?.connectTimeout ? config.connectTimeout * 1000 : SSH_DEFAULTS.connectTimeout),
    keepaliveInterval:
      ssh.keepaliveInterval ?? (config?.serverAliveInterval ? config.serverAliveInterval * 1000 : SSH_DEFAULTS.keepaliveInterval),
    keepaliveCountMax: ssh.keepaliveCountMax ?? config?.serverAliveCountMax ?? SSH_DEFAULTS.keepaliveCountMax,
  };
}

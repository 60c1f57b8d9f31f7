import type { Secret } from '../../command/index.js';

/** How host keys that are not yet known are treated. Changed keys are always refused. */
export type HostKeyPolicy = 'yes' | 'accept-new';

/**
 * SSH settings for one host. Anything left out comes from ~/.ssh/config
 * (resolved by `ssh -G`, exactly as OpenSSH reads it), then from defaults.
 * Explicit settings here always win over ~/.ssh/config.
 */
export interface SshOptions {
  user?: string;
  port?: number;
  /** Private key file(s). When set, only these keys are offered (no agent, no default keys). */
  identityFile?: string | string[];
  /** Passphrase for an encrypted identityFile. */
  passphrase?: string | Secret;
  /** Private key contents, instead of a file. */
  privateKey?: string | Buffer;
  password?: string | Secret;
  /** ssh-agent socket; default $SSH_AUTH_SOCK; false disables the agent. */
  agent?: string | false;
  /** Jump hosts, OpenSSH syntax: 'bastion' or 'user@b1:2222,b2'. 'none' disables one from ~/.ssh/config. */
  proxyJump?: string;
  /** Pinned host key fingerprints ('SHA256:…'); when set, the key must match one of them. */
  hostKeyFingerprints?: string[];
  /** Extra known_hosts files read besides the user's and the system's (e.g. the project's). */
  knownHostsFiles?: string[];
  /** Where accepted new keys are recorded (accept-new). Default: the first known_hosts file. */
  recordKnownHostsFile?: string;
  /** 'yes' (default) refuses unknown keys; 'accept-new' trusts and records them on first use. */
  strictHostKeyChecking?: HostKeyPolicy;
  /** Milliseconds to establish TCP + SSH + authentication. Default 20 s. */
  connectTimeout?: number;
  /** Milliseconds between keepalives; a dead peer errors after keepaliveCountMax misses. */
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
  /** Concurrent commands on this connection; the one SFTP session comes on top. Keep it below the server's MaxSessions (OpenSSH: 10). */
  maxChannels?: number;
  /** Read ~/.ssh/config through `ssh -G`. Default true. */
  useSshConfig?: boolean;
  /** An ssh_config file to read instead of ~/.ssh/config. */
  sshConfigFile?: string;
}

/** A host to connect to. */
export interface SshTarget {
  /** Name shown in logs and errors. */
  name: string;
  /** Host name or address, or a ~/.ssh/config alias. */
  address: string;
  user?: string;
  port?: number;
  ssh?: SshOptions;
}

/** Settings after ~/.ssh/config and defaults were applied. */
export interface ResolvedSshSettings {
  name: string;
  hostname: string;
  /** HostKeyAlias from ~/.ssh/config: the name looked up in known_hosts instead of hostname. */
  hostKeyAlias?: string;
  port: number;
  user: string;
  identityFiles: string[];
  passphrase?: string | Secret;
  privateKey?: string | Buffer;
  password?: string | Secret;
  agent?: string;
  proxyJump?: string;
  hostKeyFingerprints: string[];
  knownHostsFiles: string[];
  recordKnownHostsFile?: string;
  /** Record accepted keys hashed (HashKnownHosts in ~/.ssh/config; on by default in Debian's ssh_config). */
  hashKnownHosts: boolean;
  strictHostKeyChecking: HostKeyPolicy;
  connectTimeout: number;
  keepaliveInterval: number;
  keepaliveCountMax: number;
}

export const SSH_DEFAULTS = {
  connectTimeout: 20_000,
  keepaliveInterval: 15_000,
  keepaliveCountMax: 3,
  // OpenSSH's MaxSessions is 10; stay under it with room for an SFTP session.
  maxChannels: 8,
} as const;

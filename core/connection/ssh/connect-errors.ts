import { ConnectionError, DeployrError } from '../../errors.js';
import type { ResolvedSshSettings } from './options.js';

type SshError = Error & { level?: string; code?: string };

/** Errors worth another handshake: sshd's MaxStartups drops new connections while many are pending. */
export function isRetryableHandshakeError(error: unknown): boolean {
  const e = error as SshError;
  if (e instanceof DeployrError) return false;
  return (
    e?.code === 'ECONNRESET' ||
    e?.code === 'EPIPE' ||
    /Connection lost before handshake|kex_exchange_identification|socket hang up/i.test(e?.message ?? '')
  );
}

/** Turns an ssh2/socket error into a ConnectionError that names the host and says what to do. */
export function connectError(error: unknown, settings: ResolvedSshSettings, offered: string[], via?: string): DeployrError {
  if (error instanceof DeployrError) return error;
  const e = error as SshError;
  const where = `${settings.user}@${settings.hostname}:${settings.port}${via ? ` via ${via}` : ''}`;
  const host = settings.name;
  const options = (hint: string) => ({ host, hint, cause: error });

  if (e?.level === 'client-authentication') {
    return new ConnectionError(
      `${host}: ${where} refused authentication (offered: ${offered.join(', ') || 'nothing'})`,
      options(`check the user name, and that the public key is in ~${settings.user}/.ssh/authorized_keys on the host`),
    );
  }
  if (e?.level === 'client-timeout' || e?.code === 'ETIMEDOUT') {
    return new ConnectionError(
      `${host}: timed out after ${Math.round(settings.connectTimeout / 100) / 10}s connecting to ${where}`,
      options('check the address, that the host is up and that no firewall or VPN blocks the port; raise ssh.connectTimeout for slow links'),
    );
  }
  switch (e?.code) {
    case 'ECONNREFUSED':
      return new ConnectionError(
        `${host}: connection refused by ${settings.hostname}:${settings.port}${via ? ` (via ${via})` : ''}: nothing accepts SSH connections there`,
        options('check that sshd is running on the host and listening on that port (ssh.port)'),
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectionError(
        `${host}: cannot resolve host name "${settings.hostname}"`,
        options('check the spelling of the host address, your DNS, or ~/.ssh/config HostName'),
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ConnectionError(
        `${host}: ${settings.hostname} is unreachable (${e.code})`,
        options('check the address and your network route (VPN, bastion/ProxyJump)'),
      );
    default:
      return new ConnectionError(
        `${host}: could not connect to ${where}: ${e?.message ?? String(error)}`,
        options('run again with --verbose; check that the host accepts SSH connections'),
      );
  }
}

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

/**
 * Keeps what a server sends before its SSH banner, without consuming it (ssh2
 * has paused its socket, so an extra 'data' listener does not change the flow).
 * ssh2 reports a server that is not SSH only as "Connection lost before
 * handshake" (retried as if sshd had dropped us) or as a timeout.
 */
export function watchPreamble(client: object): () => string {
  const sock = (client as { _sock?: NodeJS.EventEmitter })._sock;
  let text = '';
  if (!sock || typeof sock.on !== 'function') return () => text;
  const onData = (chunk: Buffer | string): void => {
    text += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    if (text.length >= 512 || /^SSH-/m.test(text)) sock.removeListener('data', onData);
  };
  sock.on('data', onData);
  return () => text;
}

/**
 * The handshake failed after the server sent something that is not an SSH
 * banner (a web or mail server on the port): a final error, not retried.
 * sshd's own "Exceeded MaxStartups" drop is not this, and stays retryable.
 */
export function notSshServer(error: unknown, received: string): Error | undefined {
  if (!received.trim() || /^SSH-(2\.0|1\.99)-/m.test(received) || /Exceeded MaxStartups/.test(received)) return undefined;
  const e = error as SshError;
  const handshakeFailure =
    e?.level === 'client-timeout' ||
    /Connection lost before handshake|Invalid identification string|Invalid header|Header line too long|Max greeting lines/i.test(e?.message ?? '');
  if (!handshakeFailure) return undefined;
  const firstLine = (received.split(/\r?\n/).find((line) => line.trim() !== '') ?? received).slice(0, 80);
  return Object.assign(new Error(`not an SSH server: it sent ${JSON.stringify(firstLine)}`), { code: 'ERR_NOT_SSH', firstLine, cause: error });
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
  if (/Too many authentication failures/i.test(e?.message ?? '')) {
    // sshd's MaxAuthTries (6) cut us off: typically an ssh-agent holding many keys. ssh2 reports it as a protocol error.
    return new ConnectionError(
      `${host}: ${where} refused authentication: too many keys were offered (offered: ${offered.join(', ') || 'nothing'})`,
      options('set ssh.identityFile (or IdentityFile with IdentitiesOnly yes in ~/.ssh/config) so only the right key is offered, instead of every key in ssh-agent'),
    );
  }
  if (e?.level === 'client-timeout' || e?.code === 'ETIMEDOUT') {
    return new ConnectionError(
      `${host}: timed out after ${Math.round(settings.connectTimeout / 100) / 10}s connecting to ${where}`,
      options('check the address, that the host is up and that no firewall or VPN blocks the port; raise ssh.connectTimeout for slow links'),
    );
  }
  switch (e?.code) {
    case 'ERR_NOT_SSH':
      return new ConnectionError(
        `${host}: ${settings.hostname}:${settings.port}${via ? ` (via ${via})` : ''} is not an SSH server: it answered ${JSON.stringify((e as { firstLine?: string }).firstLine ?? '')}`,
        options('check the port (ssh.port, or Port in ~/.ssh/config): another service listens there'),
      );
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

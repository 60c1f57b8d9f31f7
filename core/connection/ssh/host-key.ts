import { HostKeyError } from '../../errors.js';
import {
  appendKnownHost,
  checkHostKey,
  fingerprintSha256,
  formatKnownHostsLine,
  hostKeyAlgorithmsFor,
  SSH2_HOST_KEY_ALGORITHMS,
  keyTypeOf,
  knownKeyTypes,
  loadKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';
import type { ResolvedSshSettings } from './options.js';

/** The parts of a host's identity a verifier needs: where it is and what it is called. */
export type HostKeySubject = Pick<
  ResolvedSshSettings,
  'name' | 'hostname' | 'hostKeyAlias' | 'port' | 'hostKeyFingerprints' | 'knownHostsFiles' | 'recordKnownHostsFile' | 'hashKnownHosts' | 'strictHostKeyChecking'
>;

export interface HostKeyCheck {
  /** For ssh2's `hostVerifier` (async form). */
  verify: (key: Buffer, done: (valid: boolean) => void) => void;
  /** For ssh2's `algorithms.serverHostKey`: only key types already known for this host, as OpenSSH does. */
  serverHostKeyAlgorithms?: string[];
  /** Why the last key was refused; ssh2 only says "Host denied". */
  failure(): HostKeyError | undefined;
  /** A line recorded under accept-new, to report it. */
  recorded(): string | undefined;
}

/** The name OpenSSH looks up in known_hosts: HostKeyAlias when set, else the host name. */
function lookupName(subject: HostKeySubject): string {
  return subject.hostKeyAlias ?? subject.hostname;
}

/** OpenSSH looks a HostKeyAlias up as written, without `[…]:port`, whatever the port. */
function lookupPort(subject: HostKeySubject): number {
  return subject.hostKeyAlias ? 22 : subject.port;
}

function target(subject: HostKeySubject): string {
  return lookupPort(subject) === 22 ? lookupName(subject) : `[${lookupName(subject)}]:${subject.port}`;
}

function pinHint(subject: HostKeySubject, fingerprint: string): string {
  const scan = `ssh-keyscan -p ${subject.port} ${subject.hostname}`;
  const record = subject.hostKeyAlias
    ? `add it to known_hosts under its HostKeyAlias (${scan}, then replace the first column with ${subject.hostKeyAlias})`
    : `add it to known_hosts (${scan} >> ~/.ssh/known_hosts)`;
  return (
    `if you trust this key, pin it with hostKeyFingerprints: ['${fingerprint}'] for ${subject.name}, ` +
    `${record} after checking the fingerprint, or set ssh.strictHostKeyChecking: 'accept-new' to trust it on first use`
  );
}

/**
 * Checks the key a host presents: pinned fingerprints first (they replace
 * known_hosts for that host), then known_hosts. Changed or revoked keys are
 * refused whatever the policy; unknown keys only pass under accept-new,
 * which records them.
 */
export async function prepareHostKeyCheck(subject: HostKeySubject, loaded?: KnownHostEntry[]): Promise<HostKeyCheck> {
  const entries = loaded ?? (await loadKnownHosts(subject.knownHostsFiles));
  const knownTypes = knownKeyTypes(entries, lookupName(subject), lookupPort(subject));
  let failure: HostKeyError | undefined;
  let recordedLine: string | undefined;
  const where = target(subject);

  const refuse = (error: HostKeyError, done: (valid: boolean) => void): void => {
    failure = error;
    done(false);
  };

  const verify = (key: Buffer, done: (valid: boolean) => void): void => {
    const fingerprint = fingerprintSha256(key);
    const keyType = keyTypeOf(key);

    // Revocation first: a key revoked in known_hosts stays refused even where it is pinned.
    const verdict = checkHostKey(entries, lookupName(subject), lookupPort(subject), keyType, key);
    if (subject.hostKeyFingerprints.length > 0 && verdict.status !== 'revoked') {
      if (subject.hostKeyFingerprints.includes(fingerprint)) return done(true);
      return refuse(
        new HostKeyError(
          `Host key of ${subject.name} (${where}) does not match its pinned fingerprint: it presented ${keyType} ${fingerprint}`,
          { fingerprint, reason: 'changed' },
          {
            host: subject.name,
            hint: 'someone may be intercepting the connection, or the host was reinstalled: check with its administrator before changing hostKeyFingerprints',
          },
        ),
        done,
      );
    }

    switch (verdict.status) {
      case 'trusted':
        return done(true);
      case 'revoked':
        return refuse(
          new HostKeyError(
            `Host key of ${subject.name} (${where}) is revoked (${verdict.entry.file}:${verdict.entry.line}): ${keyType} ${fingerprint}`,
            { fingerprint, reason: 'revoked' },
            { host: subject.name, hint: 'the host must be given a new key; a revoked key is never accepted' },
          ),
          done,
        );
      case 'changed': {
        const seen = verdict.entries.map((entry) => `${entry.file}:${entry.line}`).join(', ');
        return refuse(
          new HostKeyError(
            `Host key of ${subject.name} (${where}) has CHANGED: it presented ${keyType} ${fingerprint}, known_hosts has a different key (${seen})`,
            { fingerprint, reason: 'changed' },
            {
              host: subject.name,
              hint: `someone may be intercepting the connection, or the host was reinstalled: check with its administrator, then remove the old entry (ssh-keygen -R '${where}')`,
            },
          ),
          done,
        );
      }
      case 'unknown-type':
        return refuse(
          new HostKeyError(
            `Host ${subject.name} (${where}) presented a ${keyType} key, but known_hosts knows it only by ${verdict.knownTypes.join(', ')}`,
            { fingerprint, reason: 'unknown-type' },
            { host: subject.name, hint: pinHint(subject, fingerprint) },
          ),
          done,
        );
      case 'unknown':
        if (subject.strictHostKeyChecking === 'accept-new' && subject.recordKnownHostsFile) {
          const line = formatKnownHostsLine(lookupName(subject), lookupPort(subject), keyType, key, { hash: subject.hashKnownHosts });
          appendKnownHost(subject.recordKnownHostsFile, line).then(
            () => {
              recordedLine = line;
              done(true);
            },
            (error: unknown) =>
              refuse(
                new HostKeyError(
                  `Could not record the new host key of ${subject.name} in ${subject.recordKnownHostsFile}: ${(error as Error).message}`,
                  { fingerprint, reason: 'unknown' },
                  { host: subject.name, hint: 'check that the known_hosts file is writable' },
                ),
                done,
              ),
          );
          return;
        }
        return refuse(
          new HostKeyError(
            `Host key of ${subject.name} (${where}) is unknown: ${keyType} ${fingerprint}`,
            { fingerprint, reason: 'unknown' },
            { host: subject.name, hint: pinHint(subject, fingerprint) },
          ),
          done,
        );
    }
  };

  return {
    verify,
    ...(knownTypes.length > 0 && subject.hostKeyFingerprints.length === 0
      ? { serverHostKeyAlgorithms: hostKeyAlgorithmsFor(knownTypes, SSH2_HOST_KEY_ALGORITHMS) }
      : {}),
    failure: () => failure,
    recorded: () => recordedLine,
  };
}

import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { isSecret, revealSecret } from '../../command/index.js';
import { ConnectionError } from '../../errors.js';
import { Semaphore } from '../../util/semaphore.js';
import { planAuth } from './auth.js';
import { connectError, isRetryableHandshakeError, notSshServer, watchPreamble } from './connect-errors.js';
import { prepareHostKeyCheck } from './host-key.js';
import type { ResolvedSshSettings, SshOptions, SshTarget } from './options.js';
import { parseHostString } from './parse-target.js';
import { resolveSshSettings } from './settings.js';
import { SshConnection } from './ssh-connection.js';

const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

export interface SshConnectorOptions {
  /** Handshakes in flight at once, overall (they are CPU-heavy on small machines). Default 16. */
  maxHandshakes?: number;
  /**
   * Handshakes in flight at once to one sshd. OpenSSH's MaxStartups 10:30:100
   * starts dropping unauthenticated connections at 10. Default 8.
   */
  maxHandshakesPerDestination?: number;
  /** Retries of a handshake the server dropped, with jittered backoff. Default 4. */
  handshakeRetries?: number;
  /**
   * Called when a host's key was unknown and accept-new trusted and recorded
   * it. Trust on first use should never be silent: show it to the user.
   */
  onHostKeyRecorded?: (event: HostKeyRecorded) => void;
}

export interface HostKeyRecorded {
  host: string;
  /** The known_hosts file the key was added to. */
  file: string;
  /** The line added (host field possibly hashed). */
  line: string;
}

/** Opens a stream to host:port through an established connection (a jump host), for the host named `forName`. */
function forwardThrough(client: Client, host: string, port: number, hopName: string, forName: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (error, stream) => {
      if (error) {
        reject(
          new ConnectionError(`${forName}: jump host ${hopName} could not open a connection to ${host}:${port}: ${error.message}`, {
            host: forName,
            hint: `check that ${host}:${port} is reachable from ${hopName} and that its sshd allows TCP forwarding`,
            cause: error,
          }),
        );
      } else resolve(stream);
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Owns everything shared between a run's SSH connections: handshake limits,
 * jump host connections (one per bastion, shared by all targets behind it),
 * and the list of connections to close. One per deployr instance, so two
 * instances in a process never share state.
 */
export class SshConnector {
  private readonly handshakes: Semaphore;
  private readonly perDestination = new Map<string, Semaphore>();
  private readonly jumpClients = new Map<string, Promise<Client>>();
  private readonly open = new Set<SshConnection>();
  private readonly options: Required<Omit<SshConnectorOptions, 'onHostKeyRecorded'>>;
  private readonly onHostKeyRecorded: SshConnectorOptions['onHostKeyRecorded'];

  constructor(options: SshConnectorOptions = {}) {
    this.options = {
      maxHandshakes: options.maxHandshakes ?? 16,
      maxHandshakesPerDestination: options.maxHandshakesPerDestination ?? 8,
      handshakeRetries: options.handshakeRetries ?? 4,
    };
    this.onHostKeyRecorded = options.onHostKeyRecorded;
    this.handshakes = new Semaphore(this.options.maxHandshakes);
  }

  /** A connection that connects on first use. */
  connection(target: SshTarget): SshConnection {
    const connection = new SshConnection(target, this);
    this.open.add(connection);
    return connection;
  }

  /** A connection that is already connected and authenticated. */
  async connect(target: SshTarget): Promise<SshConnection> {
    const connection = this.connection(target);
    await connection.connect();
    return connection;
  }

  /** Closes every connection and jump host connection this connector opened. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.open].map((connection) => connection.close()));
    this.open.clear();
    const jumps = [...this.jumpClients.values()];
    this.jumpClients.clear();
    await Promise.allSettled(jumps.map(async (pending) => (await pending).end()));
  }

  /** @internal used by SshConnection */
  forget(connection: SshConnection): void {
    this.open.delete(connection);
  }

  /** @internal Resolves settings, goes through jump hosts, and returns a ready client. */
  async establish(target: SshTarget): Promise<{ client: Client; settings: ResolvedSshSettings }> {
    const settings = await resolveSshSettings(target);
    if (!settings.proxyJump) return { client: await this.handshake(settings), settings };
    const { client: jump, name } = await this.jumpChain(settings, target.ssh);
    // Cap handshakes tunnelled through one bastion too: they all load its sshd and its link.
    const client = await this.limiter(`jump:${settings.proxyJump}`).run(() =>
      this.handshake(settings, () => forwardThrough(jump, settings.hostname, settings.port, name, settings.name), name),
    );
    return { client, settings };
  }

  /**
   * Connects to each hop of a ProxyJump chain through the previous one.
   * Each hop is verified under its own name and reads its own entry of the
   * target's ssh config (the same file, as `ssh -F` passes it on to ProxyJump);
   * keys and known_hosts the target was given are offered when the hop has none.
   */
  private async jumpChain(settings: ResolvedSshSettings, ssh: SshOptions = {}): Promise<{ client: Client; name: string }> {
    const hops = (settings.proxyJump as string).split(',').map((hop) => hop.trim()).filter(Boolean);
    const config: SshOptions = {
      ...(ssh.useSshConfig === false ? { useSshConfig: false } : {}),
      ...(ssh.sshConfigFile === undefined ? {} : { sshConfigFile: ssh.sshConfigFile }),
    };
    let previous: { client: Client; name: string; key: string } | undefined;
    for (const hop of hops) {
      const hopSettings = await this.hopSettings(hop, settings, config);
      // Shared only by targets that would connect to this hop the same way: same
      // route, address, user, keys and trust. A target must never ride on a
      // bastion connection that its own known_hosts or keys would not have made.
      const key = `${previous?.key ?? ''}>${identityOf(hopSettings)}`;
      let pending = this.jumpClients.get(key);
      if (!pending) {
        const via = previous;
        pending = via
          ? this.handshake(hopSettings, () => forwardThrough(via.client, hopSettings.hostname, hopSettings.port, via.name, hopSettings.name), via.name)
          : this.handshake(hopSettings);
        this.jumpClients.set(key, pending);
        const cached = pending;
        const evict = () => {
          if (this.jumpClients.get(key) === cached) this.jumpClients.delete(key);
        };
        // A failed jump connection, or one that drops later, must not be reused by later targets.
        pending.then((client) => client.once('close', evict), evict);
      }
      previous = { client: await pending, name: hop, key };
    }
    return previous as { client: Client; name: string };
  }

  /** A hop's settings: its own ~/.ssh/config entry, with the target's keys and trust where it has none. */
  private async hopSettings(hop: string, base: ResolvedSshSettings, config: SshOptions): Promise<ResolvedSshSettings> {
    const parsed = parseHostString(hop, `ProxyJump of ${base.name}`);
    const own = await resolveSshSettings({
      name: `${parsed.address} (jump host for ${base.name})`,
      address: parsed.address,
      ...(parsed.user === undefined ? {} : { user: parsed.user }),
      ...(parsed.port === undefined ? {} : { port: parsed.port }),
      // Not proxyJump: 'none' here: that would also waive the ProxyCommand check for the hop.
      ssh: config,
    });
    const { proxyJump: _chainedHere, ...ownWithoutJump } = own; // the chain is the one the target wrote
    return {
      ...ownWithoutJump,
      identityFiles: own.identityFiles.length ? own.identityFiles : base.identityFiles,
      ...(base.privateKey !== undefined && own.identityFiles.length === 0 ? { privateKey: base.privateKey } : {}),
      ...(base.passphrase !== undefined ? { passphrase: base.passphrase } : {}),
      ...(base.agent !== undefined ? { agent: base.agent } : {}),
      knownHostsFiles: [...new Set([...base.knownHostsFiles, ...own.knownHostsFiles])],
      ...(base.recordKnownHostsFile !== undefined ? { recordKnownHostsFile: base.recordKnownHostsFile } : {}),
      strictHostKeyChecking: base.strictHostKeyChecking,
      connectTimeout: base.connectTimeout,
    };
  }

  private limiter(key: string): Semaphore {
    let semaphore = this.perDestination.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.options.maxHandshakesPerDestination);
      this.perDestination.set(key, semaphore);
    }
    return semaphore;
  }

  private async handshake(settings: ResolvedSshSettings, openSocket?: () => Promise<Duplex>, via?: string): Promise<Client> {
    const auth = await planAuth(settings);
    const hostKey = await prepareHostKeyCheck(settings);
    const releaseDestination = await this.limiter(`${settings.hostname}:${settings.port}`).acquire();
    const releaseGlobal = await this.handshakes.acquire();
    try {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const sock = openSocket ? await openSocket() : undefined;
          const client = await this.attempt(settings, auth.methods, hostKey, sock);
          const line = hostKey.recorded();
          if (line && settings.recordKnownHostsFile) this.onHostKeyRecorded?.({ host: settings.name, file: settings.recordKnownHostsFile, line });
          return client;
        } catch (error) {
          const refusedKey = hostKey.failure();
          if (refusedKey) throw refusedKey;
          if (attempt < this.options.handshakeRetries && isRetryableHandshakeError(error)) {
            await sleep(100 * 2 ** attempt + Math.random() * 150 * 2 ** attempt);
            continue;
          }
          throw connectError(error, settings, auth.described, via);
        }
      }
    } finally {
      releaseGlobal();
      releaseDestination();
    }
  }

  private attempt(
    settings: ResolvedSshSettings,
    methods: Awaited<ReturnType<typeof planAuth>>['methods'],
    hostKey: Awaited<ReturnType<typeof prepareHostKeyCheck>>,
    sock: Duplex | undefined,
  ): Promise<Client> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let settled = false;
      let received = (): string => '';
      client.once('ready', () => {
        settled = true;
        // Nagle delays each small SSH packet by ~40 ms on loopback and LANs (NOTES-deps.md).
        client.setNoDelay(true);
        resolve(client);
      });
      client.on('error', (error) => {
        if (!settled) {
          settled = true;
          reject(notSshServer(error, received()) ?? error);
        }
        // After ready, errors surface through the connection's 'close' handling; this listener keeps them from crashing the process.
      });
      client.once('close', () => {
        if (!settled) {
          settled = true;
          const lost = Object.assign(new Error('Connection lost before handshake'), { code: 'ECONNRESET' });
          reject(notSshServer(lost, received()) ?? lost);
        }
      });
      client.connect({
        host: settings.hostname,
        port: settings.port,
        username: settings.user,
        ...(sock ? { sock } : {}),
        readyTimeout: settings.connectTimeout,
        keepaliveInterval: settings.keepaliveInterval,
        keepaliveCountMax: settings.keepaliveCountMax,
        hostVerifier: hostKey.verify,
        ...(hostKey.serverHostKeyAlgorithms ? { algorithms: { serverHostKey: hostKey.serverHostKeyAlgorithms as never } } : {}),
        authHandler: methods as never,
      });
      received = watchPreamble(client);
    });
  }
}

/** Everything that decides how a hop is connected and trusted; secrets only as digests. */
function identityOf(settings: ResolvedSshSettings): string {
  const digest = (value: unknown): string | undefined =>
    value === undefined ? undefined : createHash('sha256').update(isSecret(value) ? revealSecret(value) : String(value)).digest('hex');
  return JSON.stringify([
    settings.hostname,
    settings.port,
    settings.user,
    settings.hostKeyAlias ?? null,
    settings.identityFiles,
    digest(settings.privateKey),
    digest(settings.passphrase),
    settings.agent ?? null,
    settings.knownHostsFiles,
    settings.hostKeyFingerprints,
    settings.strictHostKeyChecking,
  ]);
}

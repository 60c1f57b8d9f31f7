// ssh_config applied to real connections: a temp config file (ssh.sshConfigFile,
// read through `ssh -G -F <file>`) supplies HostName, User, IdentityFile,
// UserKnownHostsFile, ProxyJump and StrictHostKeyChecking; explicit target
// settings win over it. Never reads or writes the real ~/.ssh.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { ConfigError, ConnectionError, Host, HostKeyError, SshConnector, type SshConnection, type SshTarget } from '../../core/index.js';
import { hostShell, type FleetHost, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { hostNamed, connectFailure } from './fleet-targets.js';
import { startTcpRelay, type TcpRelay } from './tcp-relay.js';

let fleet: FleetState;
let scratch: string;
let h1: FleetHost;
let h2: FleetHost;
const marker = `deployr-sshcfg-${randomBytes(4).toString('hex')}`;

let configCount = 0;
/** A fresh ssh_config file (fresh path: resolved configs are memoized per file). */
function sshConfig(text: string): string {
  const file = path.join(scratch, `ssh_config_${++configCount}`);
  writeFileSync(file, text.replace(/^\n/, ''));
  return file;
}

/** The Host block lines every fleet alias needs, pointing at `h`. */
function fleetBlock(h: FleetHost, extra: Record<string, string> = {}): string {
  const settings: Record<string, string> = {
    HostName: h.address,
    ...(h.port === 22 ? {} : { Port: String(h.port) }),
    User: fleet.user,
    IdentityFile: fleet.clientKey,
    UserKnownHostsFile: fleet.knownHosts,
    GlobalKnownHostsFile: '/dev/null',
    ...extra,
  };
  return Object.entries(settings)
    .map(([k, v]) => `  ${k} ${v}\n`)
    .join('');
}

/** A target that names only an alias: everything else comes from the config file. */
function aliasTarget(alias: string, configFile: string, more: Partial<SshTarget> = {}): SshTarget {
  return { name: alias, address: alias, ...more, ssh: { useSshConfig: true, sshConfigFile: configFile, ...more.ssh } };
}

async function withConnection<T>(t: SshTarget, fn: (connection: SshConnection, host: Host) => Promise<T>): Promise<T> {
  const connector = new SshConnector();
  try {
    const connection = await connector.connect(t);
    return await fn(connection, new Host(connection));
  } finally {
    await connector.closeAll();
  }
}

const failure = connectFailure;

const out = async (host: Host, command: string) => (await host.exec(command)).stdout.trim();

beforeAll(async () => {
  fleet = useFleet();
  h1 = hostNamed(fleet, 'h1');
  h2 = hostNamed(fleet, 'h2');
  scratch = mkdtempSync(path.join(tmpdir(), 'deployr-sshcfg-'));
  for (const h of [h1, h2]) {
    const r = await hostShell(fleet, h.name, `echo ${h.name} > /srv/${marker}`);
    if (r.code !== 0) throw new Error(`marker on ${h.name}: ${r.stderr}`);
  }
});

afterAll(async () => {
  for (const h of [h1, h2]) if (h) await hostShell(fleet, h.name, `rm -f /srv/${marker}`);
  rmSync(scratch, { recursive: true, force: true });
});

describe('ssh_config file', () => {
  it('connects to an alias with HostName, User, IdentityFile and UserKnownHostsFile from the file', async () => {
    const file = sshConfig(`Host web-alias\n${fleetBlock(h1)}`);
    await withConnection(aliasTarget('web-alias', file), async (connection, host) => {
      expect(await out(host, `id -un; cat /srv/${marker}`)).toBe(`${fleet.user}\nh1`);
      expect(connection.resolved).toMatchObject({
        hostname: h1.address,
        port: h1.port,
        user: fleet.user,
        identityFiles: [fleet.clientKey],
      });
      expect(connection.resolved?.knownHostsFiles).toContain(fleet.knownHosts);
    });
  });

  it('Host patterns and first-value-wins are OpenSSH’s: a later Host * does not override', async () => {
    const file = sshConfig(`Host web-*\n${fleetBlock(h1)}\nHost *\n  User nobody\n  HostName 192.0.2.1\n`);
    await withConnection(aliasTarget('web-anything', file), async (_connection, host) => {
      expect(await out(host, `id -un; cat /srv/${marker}`)).toBe(`${fleet.user}\nh1`);
    });
  });

  it('without the file, the alias is not a host name', async () => {
    const error = await failure({ name: 'web-alias', address: `web-alias-${marker}.invalid`, ssh: { useSshConfig: false, agent: false, identityFile: fleet.clientKey } });
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/cannot resolve/);
  });
});

describe('explicit settings win over the file', () => {
  it('target user overrides User', async () => {
    const file = sshConfig(`Host web-alias\n${fleetBlock(h1)}`);
    await withConnection(aliasTarget('web-alias', file, { user: fleet.passwordUser }), async (connection, host) => {
      expect(await out(host, 'id -un')).toBe(fleet.passwordUser);
      expect(connection.resolved?.user).toBe(fleet.passwordUser);
    });
    await withConnection(aliasTarget('web-alias', file, { ssh: { user: fleet.passwordUser } }), async (_c, host) => {
      expect(await out(host, 'id -un')).toBe(fleet.passwordUser);
    });
  });

  it('target port overrides Port, both ways', async () => {
    // The file's port is wrong (nothing listens on 2200); the target's is right.
    const wrongPort = sshConfig(`Host web-alias\n${fleetBlock(h1, { Port: '2200', User: 'nobody' })}`);
    await withConnection(aliasTarget('web-alias', wrongPort, { port: h1.port, user: fleet.user }), async (connection, host) => {
      expect(await out(host, 'id -un')).toBe(fleet.user);
      expect(connection.resolved?.port).toBe(h1.port);
    });
    // The file's port is right; the target's (2200) is used, and refused.
    const rightPort = sshConfig(`Host web-alias\n${fleetBlock(h1)}`);
    const error = await failure(aliasTarget('web-alias', rightPort, { port: 2200 }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/connection refused/);
    expect(error.message).toContain(`${h1.address}:2200`);
  });

  it('ssh.identityFile overrides IdentityFile', async () => {
    const file = sshConfig(`Host web-alias\n${fleetBlock(h1)}`);
    const error = await failure(aliasTarget('web-alias', file, { ssh: { identityFile: fleet.unauthorizedKey, agent: false } }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/refused authentication/);
    expect(error.message).toContain(fleet.unauthorizedKey);
  });
});

describe('ProxyJump from the file', () => {
  const logSize = (h: FleetHost) => statSync(path.join(h.root, 'sshd.log')).size;
  const acceptedFrom = (h: FleetHost, offset: number, from: string) =>
    readFileSync(path.join(h.root, 'sshd.log'))
      .subarray(offset)
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith(`Accepted publickey for ${fleet.user} from ${from} port `));

  it('ProxyJump user@address is honoured', async () => {
    const jump = `${fleet.user}@${h1.port === 22 ? h1.address : `${h1.address}:${h1.port}`}`;
    const file = sshConfig(`Host behind\n${fleetBlock(h2, { ProxyJump: jump })}`);
    const offset = logSize(h2);
    await withConnection(aliasTarget('behind', file), async (connection, host) => {
      expect(connection.resolved?.proxyJump).toContain(h1.address); // ssh -G normalizes it, e.g. deploy@[addr]
      expect(await out(host, `cat /srv/${marker}`)).toBe('h2');
    });
    expect(acceptedFrom(h2, offset, h1.address).length).toBeGreaterThanOrEqual(1);
  });

  it('a ProxyJump naming another alias of the same file resolves that alias from the file', async () => {
    const file = sshConfig(`Host behind\n${fleetBlock(h2, { ProxyJump: 'bastion' })}\nHost bastion\n${fleetBlock(h1)}`);
    const offset = logSize(h2);
    await withConnection(aliasTarget('behind', file), async (_connection, host) => {
      expect(await out(host, `cat /srv/${marker}`)).toBe('h2');
    });
    expect(acceptedFrom(h2, offset, h1.address).length).toBeGreaterThanOrEqual(1);
  });

  it("ssh.proxyJump: 'none' disables the file's ProxyJump", async () => {
    const file = sshConfig(`Host behind\n${fleetBlock(h2, { ProxyJump: 'bastion-that-does-not-exist.invalid' })}`);
    await withConnection(aliasTarget('behind', file, { ssh: { proxyJump: 'none' } }), async (connection, host) => {
      expect(connection.resolved?.proxyJump).toBeUndefined();
      expect(await out(host, `cat /srv/${marker}`)).toBe('h2');
    });
  });
});

describe('StrictHostKeyChecking from the file', () => {
  it('accept-new trusts and records a new key in UserKnownHostsFile; then strict checking passes', async () => {
    const record = path.join(scratch, 'tofu_known_hosts');
    const file = sshConfig(
      `Host tofu\n${fleetBlock(h1, { UserKnownHostsFile: record, StrictHostKeyChecking: 'accept-new' })}` +
        `Host strict\n${fleetBlock(h1, { UserKnownHostsFile: record, StrictHostKeyChecking: 'yes' })}`,
    );
    expect(existsSync(record)).toBe(false);
    await withConnection(aliasTarget('tofu', file), async (connection, host) => {
      expect(connection.resolved?.strictHostKeyChecking).toBe('accept-new');
      expect(await out(host, 'id -un')).toBe(fleet.user);
    });
    const pub = readFileSync(path.join(h1.root, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const name = h1.port === 22 ? h1.address : `[${h1.address}]:${h1.port}`;
    expect(readFileSync(record, 'utf8')).toBe(`${name} ${pub}\n`);

    await withConnection(aliasTarget('strict', file), async (connection, host) => {
      expect(connection.resolved?.strictHostKeyChecking).toBe('yes');
      expect(await out(host, 'id -un')).toBe(fleet.user);
    });
  });

  it('StrictHostKeyChecking yes refuses the same unknown key', async () => {
    const empty = path.join(scratch, 'strict_known_hosts');
    writeFileSync(empty, '');
    const file = sshConfig(`Host strict\n${fleetBlock(h1, { UserKnownHostsFile: empty, StrictHostKeyChecking: 'yes' })}`);
    const error = await failure(aliasTarget('strict', file));
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as HostKeyError).reason).toBe('unknown');
    expect(readFileSync(empty, 'utf8')).toBe('');
  });

  it('explicit strictHostKeyChecking wins over the file', async () => {
    const empty = path.join(scratch, 'override_known_hosts');
    writeFileSync(empty, '');
    const file = sshConfig(`Host tofu\n${fleetBlock(h1, { UserKnownHostsFile: empty, StrictHostKeyChecking: 'accept-new' })}`);
    const error = await failure(aliasTarget('tofu', file, { ssh: { strictHostKeyChecking: 'yes' } }));
    expect(error).toBeInstanceOf(HostKeyError);
    expect(readFileSync(empty, 'utf8')).toBe('');
  });
});

/** `type base64` of a host's ed25519 public key. */
const hostPub = (h: FleetHost) =>
  readFileSync(path.join(h.root, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

/**
 * Runs the real OpenSSH client with the same config file (`ssh -F <file> <alias> true`),
 * non-interactively and without touching ~/.ssh: returns its exit code and stderr.
 * Asynchronous: the TCP relay it goes through lives in this process.
 */
function realSsh(configFile: string, alias: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'ssh',
      ['-F', configFile, '-o', 'BatchMode=yes', '-o', 'IdentityAgent=none', '-o', 'UpdateHostKeys=no', '-o', 'ConnectTimeout=5', alias, 'true'],
      { timeout: 15_000 },
      (error, _stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stderr: error ? String(stderr) || error.message : String(stderr) });
      },
    );
  });
}

describe('HostKeyAlias from the file, on a port other than 22', () => {
  // h1 reached through a TCP relay on 127.0.0.1:<random port>: the alias is looked up
  // in known_hosts as written (OpenSSH), never as [alias]:port.
  let relay: TcpRelay;

  beforeAll(async () => {
    relay = await startTcpRelay(h1.address, h1.port);
  });

  afterAll(() => relay.close());

  function aliasedConfig(knownHosts: string, policy: 'yes' | 'accept-new' = 'yes'): string {
    return sshConfig(
      `Host aliased\n` +
        `  HostName 127.0.0.1\n  Port ${relay.port}\n  HostKeyAlias web-alias\n  User ${fleet.user}\n` +
        `  IdentityFile ${fleet.clientKey}\n  IdentitiesOnly yes\n` +
        `  UserKnownHostsFile ${knownHosts}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking ${policy}\n`,
    );
  }

  function knownHosts(name: string, ...lines: string[]): string {
    const file = path.join(scratch, name);
    writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
    return file;
  }

  it('connects when known_hosts lists the key under the bare alias (as OpenSSH does)', async () => {
    expect(relay.port).not.toBe(22);
    const file = aliasedConfig(knownHosts('alias_known_hosts', `web-alias ${hostPub(h1)}`));
    await withConnection(aliasTarget('aliased', file), async (connection, host) => {
      expect(connection.resolved).toMatchObject({ hostname: '127.0.0.1', port: relay.port, hostKeyAlias: 'web-alias' });
      expect(await out(host, `id -un; cat /srv/${marker}`)).toBe(`${fleet.user}\nh1`);
    });
    // The real client accepts the very same file.
    const real = await realSsh(file, 'aliased');
    expect(real.code, real.stderr).toBe(0);
  });

  it('an [alias]:port or [127.0.0.1]:port line does not cover it: unknown, named by the bare alias', async () => {
    const file = aliasedConfig(
      knownHosts('alias_port_known_hosts', `[web-alias]:${relay.port} ${hostPub(h1)}`, `[127.0.0.1]:${relay.port} ${hostPub(h1)}`),
    );
    const error = await failure(aliasTarget('aliased', file));
    expect(error).toBeInstanceOf(HostKeyError);
    expect((error as HostKeyError).reason).toBe('unknown');
    expect(error.message).toContain('(web-alias)');
    expect(error.message).not.toContain('[web-alias]');
    expect((error as HostKeyError).hint).toContain('web-alias');
    // OpenSSH refuses it too.
    const real = await realSsh(file, 'aliased');
    expect(real.code).not.toBe(0);
    expect(real.stderr).toMatch(/host key verification failed/i);
  });

  it('accept-new records the bare alias, and strict checking with that file then connects (ours and OpenSSH)', async () => {
    const record = path.join(scratch, 'alias_tofu', 'known_hosts');
    const tofu = aliasedConfig(record, 'accept-new');
    await withConnection(aliasTarget('aliased', tofu), async (connection, host) => {
      expect(connection.resolved?.strictHostKeyChecking).toBe('accept-new');
      expect(await out(host, `cat /srv/${marker}`)).toBe('h1');
    });
    expect(readFileSync(record, 'utf8')).toBe(`web-alias ${hostPub(h1)}\n`);

    const strict = aliasedConfig(record, 'yes');
    await withConnection(aliasTarget('aliased', strict), async (connection, host) => {
      expect(connection.resolved?.strictHostKeyChecking).toBe('yes');
      expect(await out(host, `cat /srv/${marker}`)).toBe('h1');
    });
    const real = await realSsh(strict, 'aliased');
    expect(real.code, real.stderr).toBe(0);
    expect(readFileSync(record, 'utf8')).toBe(`web-alias ${hostPub(h1)}\n`); // nothing more recorded
  });
});

describe('ProxyCommand in the file', () => {
  // The host behind the ProxyCommand is really reachable (a counting relay to h1), so
  // "no connection was attempted" is visible, and connecting directly would succeed.
  let relay: TcpRelay;

  let relayKnownHosts: string;

  beforeAll(async () => {
    relay = await startTcpRelay(h1.address, h1.port);
    relayKnownHosts = path.join(scratch, 'proxycommand_known_hosts');
    writeFileSync(relayKnownHosts, `[127.0.0.1]:${relay.port} ${hostPub(h1)}\n`);
  });

  afterAll(() => relay.close());

  /** A block for `alias` reaching h1 through the relay, with a ProxyCommand that would leave `ran` behind. */
  function proxiedBlock(ran: string): string {
    return (
      `  HostName 127.0.0.1\n  Port ${relay.port}\n  User ${fleet.user}\n  IdentityFile ${fleet.clientKey}\n` +
      `  UserKnownHostsFile ${relayKnownHosts}\n  GlobalKnownHostsFile /dev/null\n` +
      `  ProxyCommand sh -c 'touch ${ran}; exec nc %h %p'\n`
    );
  }

  it('is a ConfigError naming the host and pointing at ProxyJump, before any connection attempt', async () => {
    const ran = path.join(scratch, 'proxycommand-ran');
    const file = sshConfig(`Host proxied\n${proxiedBlock(ran)}`);
    const before = relay.connections;
    const t0 = Date.now();
    const error = await failure(aliasTarget('proxied', file));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(ConnectionError);
    const e = error as ConfigError;
    expect(e.host).toBe('proxied');
    expect(e.message).toMatch(/^proxied: /);
    expect(e.message).toContain('ProxyCommand');
    expect(e.message).toContain('"proxied"');
    expect(e.hint).toContain('ProxyJump');
    expect(relay.connections).toBe(before); // nothing connected directly
    expect(existsSync(ran)).toBe(false); // and the command was not run either
  });

  it("ssh.proxyJump: 'none' ignores it and connects directly", async () => {
    const ran = path.join(scratch, 'proxycommand-ran-none');
    const file = sshConfig(`Host proxied\n${proxiedBlock(ran)}`);
    const before = relay.connections;
    await withConnection(aliasTarget('proxied', file, { ssh: { proxyJump: 'none' } }), async (connection, host) => {
      expect(connection.resolved?.proxyJump).toBeUndefined();
      expect(await out(host, `cat /srv/${marker}`)).toBe('h1');
    });
    expect(relay.connections).toBe(before + 1);
    expect(existsSync(ran)).toBe(false);
  });

  it('an explicit ssh.proxyJump replaces it', async () => {
    const ran = path.join(scratch, 'proxycommand-ran-jump');
    const jump = `${fleet.user}@${h1.port === 22 ? h1.address : `${h1.address}:${h1.port}`}`;
    const file = sshConfig(`Host proxied-behind\n${fleetBlock(h2, { ProxyCommand: `sh -c 'touch ${ran}; exec nc %h %p'` })}`);
    await withConnection(aliasTarget('proxied-behind', file, { ssh: { proxyJump: jump } }), async (connection, host) => {
      expect(connection.resolved?.proxyJump).toBe(jump);
      expect(await out(host, `cat /srv/${marker}`)).toBe('h2');
    });
    expect(existsSync(ran)).toBe(false);
  });

  it('a jump host whose entry has a ProxyCommand is a ConfigError too, not a direct connection to the bastion', async () => {
    const ran = path.join(scratch, 'proxycommand-ran-hop');
    const h2 = hostNamed(fleet, 'h2');
    const file = sshConfig(
      `Host behind\n  HostName ${h2.address}\n  User ${fleet.user}\n  IdentityFile ${fleet.clientKey}\n  ProxyJump bastion\n` +
        `  UserKnownHostsFile ${fleet.knownHosts}\n\nHost bastion\n${proxiedBlock(ran)}`,
    );
    const before = relay.connections;
    const error = await failure(aliasTarget('behind', file));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('ProxyCommand');
    expect(error.message).toContain('"bastion"');
    expect(relay.connections).toBe(before);
    expect(existsSync(ran)).toBe(false);
  });
});

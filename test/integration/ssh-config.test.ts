// ssh_config applied to real connections: a temp config file (ssh.sshConfigFile,
// read through `ssh -G -F <file>`) supplies HostName, User, IdentityFile,
// UserKnownHostsFile, ProxyJump and StrictHostKeyChecking; explicit target
// settings win over it. Never reads or writes the real ~/.ssh.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, Host, HostKeyError, SshConnector, type SshConnection, type SshTarget } from '../../core/index.js';
import { hostShell, type FleetHost, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { hostNamed, connectFailure } from './fleet-targets.js';

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

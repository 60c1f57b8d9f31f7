// ProxyJump through real sshd hosts: the command really runs on the target,
// each hop's key is checked under its own name, targets behind one bastion
// share one jump connection, failures name the jump host, and chains work.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, Host, HostKeyError, SshConnector, type SshOptions, type SshTarget } from '../../core/index.js';
import { hostShell, type FleetHost, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetTarget, hostNamed, connectFailure } from './fleet-targets.js';
import { startTcpRelay, type TcpRelay } from './tcp-relay.js';

let fleet: FleetState;
let scratch: string;
let h1: FleetHost;
let h2: FleetHost;
let h3: FleetHost;
let h4: FleetHost;
const marker = `deployr-jump-${randomBytes(4).toString('hex')}`;

const jumpSpec = (h: FleetHost) => `${fleet.user}@${h.port === 22 ? h.address : `${h.address}:${h.port}`}`;
const pattern = (h: FleetHost) => (h.port === 22 ? h.address : `[${h.address}]:${h.port}`);
const hostPub = (h: FleetHost) =>
  readFileSync(path.join(h.root, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

let fileCount = 0;
function knownHostsFile(...lines: string[]): string {
  const file = path.join(scratch, `known_hosts_${++fileCount}`);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

function target(h: FleetHost, ssh: SshOptions): SshTarget {
  return fleetTarget(fleet, h, ssh);
}

/** Reads this run's marker file on the host the connection really reached. */
async function whereAmI(connector: SshConnector, t: SshTarget): Promise<string> {
  const connection = await connector.connect(t);
  return (await new Host(connection).exec(`cat /srv/${marker}`)).stdout.trim();
}

const failure = connectFailure;

const logOf = (h: FleetHost) => path.join(h.root, 'sshd.log');
const logSize = (h: FleetHost) => statSync(logOf(h)).size;
const logSince = (h: FleetHost, offset: number) => readFileSync(logOf(h)).subarray(offset).toString('utf8');
/** Logins sshd of `h` accepted since `offset` from `from` (an address). */
const acceptedFrom = (h: FleetHost, offset: number, from: string) =>
  logSince(h, offset)
    .split('\n')
    .filter((l) => l.startsWith(`Accepted publickey for ${fleet.user} from ${from} port `));

beforeAll(async () => {
  fleet = useFleet();
  [h1, h2, h3, h4] = ['h1', 'h2', 'h3', 'h4'].map((n) => hostNamed(fleet, n)) as [FleetHost, FleetHost, FleetHost, FleetHost];
  scratch = mkdtempSync(path.join(tmpdir(), 'deployr-jump-'));
  // Each host's own /srv gets a file naming it: reading it proves where a command ran.
  for (const h of fleet.hosts) {
    const r = await hostShell(fleet, h.name, `echo ${h.name} > /srv/${marker}`);
    if (r.code !== 0) throw new Error(`marker on ${h.name}: ${r.stderr}`);
  }
});

afterAll(async () => {
  for (const h of fleet?.hosts ?? []) await hostShell(fleet, h.name, `rm -f /srv/${marker}`);
  rmSync(scratch, { recursive: true, force: true });
});

describe('ProxyJump', () => {
  it('reaches h2 through h1: the command runs on h2, and h2 sees the login from h1', async () => {
    const offset = logSize(h2);
    const connector = new SshConnector();
    try {
      expect(await whereAmI(connector, target(h2, { proxyJump: jumpSpec(h1) }))).toBe('h2');
    } finally {
      await connector.closeAll();
    }
    expect(acceptedFrom(h2, offset, h1.address).length).toBeGreaterThanOrEqual(1);
  });

  it("verifies the jump host's key under the jump host's own name", async () => {
    // h2 (the target) is known; h1 (the jump host) is not.
    const error = await failure(target(h2, { proxyJump: jumpSpec(h1), knownHostsFiles: [knownHostsFile(`${pattern(h2)} ${hostPub(h2)}`)] }));
    expect(error).toBeInstanceOf(HostKeyError);
    const e = error as HostKeyError;
    expect(e.reason).toBe('unknown');
    expect(e.message).toContain(h1.address);
    expect(e.message).toMatch(/jump host/);
    expect(e.message).not.toContain(h2.address);
  });

  it("verifies the target's key under the target's own name", async () => {
    // h1 is known; h2 is only known with h1's key written under h2's name: a changed key for h2.
    const file = knownHostsFile(`${pattern(h1)} ${hostPub(h1)}`, `${pattern(h2)} ${hostPub(h1)}`);
    const error = await failure(target(h2, { proxyJump: jumpSpec(h1), knownHostsFiles: [file] }));
    expect(error).toBeInstanceOf(HostKeyError);
    const e = error as HostKeyError;
    expect(e.reason).toBe('changed');
    expect(e.host).toBe('h2');
    expect(e.message).toContain(h2.address);

    const unknown = await failure(target(h2, { proxyJump: jumpSpec(h1), knownHostsFiles: [knownHostsFile(`${pattern(h1)} ${hostPub(h1)}`)] }));
    expect(unknown).toBeInstanceOf(HostKeyError);
    expect((unknown as HostKeyError).reason).toBe('unknown');
    expect((unknown as HostKeyError).host).toBe('h2');
  });

  it('names the jump host when it cannot reach the target port', async () => {
    const t0 = Date.now();
    const error = await failure({ ...target(h2, { proxyJump: jumpSpec(h1) }), port: 2200 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(HostKeyError);
    const e = error as ConnectionError;
    expect(e.message).toContain(`jump host ${jumpSpec(h1)}`);
    expect(e.message).toContain(`${h2.address}:2200`);
    expect(e.message).toMatch(/^h2: /);
    expect(e.host).toBe('h2');
    expect(e.describe()).toMatch(/→ .*reachable from/);
  });

  it("a target never rides on another target's bastion connection that its own known_hosts would not have made", async () => {
    const connector = new SshConnector();
    try {
      // A trusts the bastion h1 (and h2): it connects through h1, and that jump connection stays open.
      const trustsBastion = knownHostsFile(`${pattern(h1)} ${hostPub(h1)}`, `${pattern(h2)} ${hostPub(h2)}`);
      expect(await whereAmI(connector, target(h2, { proxyJump: jumpSpec(h1), knownHostsFiles: [trustsBastion] }))).toBe('h2');
      // B, on the same connector and through the same bastion, knows h3 but not h1: h1's key must be checked for B too.
      const onlyTarget = knownHostsFile(`${pattern(h3)} ${hostPub(h3)}`);
      const error = await connector.connect(target(h3, { proxyJump: jumpSpec(h1), knownHostsFiles: [onlyTarget] })).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error, 'B connected through the bastion connection A made').toBeInstanceOf(HostKeyError);
      const e = error as HostKeyError;
      expect(e.reason).toBe('unknown');
      expect(e.message).toContain(h1.address);
      expect(e.message).toMatch(/jump host/);
      expect(e.message).not.toContain(h3.address);
      // A's jump connection is unaffected: A's settings still reach h2 through it.
      expect(await whereAmI(connector, { ...target(h2, { proxyJump: jumpSpec(h1), knownHostsFiles: [trustsBastion] }), name: 'h2-again' })).toBe('h2');
    } finally {
      await connector.closeAll();
    }
  });

  it('reaches h3 through the chain h1,h2', async () => {
    const offsets = { h2: logSize(h2), h3: logSize(h3) };
    const connector = new SshConnector();
    try {
      expect(await whereAmI(connector, target(h3, { proxyJump: `${jumpSpec(h1)},${jumpSpec(h2)}` }))).toBe('h3');
    } finally {
      await connector.closeAll();
    }
    expect(acceptedFrom(h2, offsets.h2, h1.address).length).toBeGreaterThanOrEqual(1);
    expect(acceptedFrom(h3, offsets.h3, h2.address).length).toBeGreaterThanOrEqual(1);
  });
});

describe('one jump connection for many targets', () => {
  // h1 reached through a counting TCP relay on 127.0.0.1: every TCP connection to the bastion is seen.
  let relay: TcpRelay;
  let relayPort: number;

  beforeAll(async () => {
    relay = await startTcpRelay(h1.address, h1.port);
    relayPort = relay.port;
  });

  afterAll(() => relay.close());

  it('several targets behind one bastion share a single jump connection', async () => {
    // h2..h4: never stopped by other test files (see the host plan in test/fleet/global-setup.ts).
    const behind = [h2, h3, h4];
    const known = knownHostsFile(`[127.0.0.1]:${relayPort} ${hostPub(h1)}`, ...behind.map((h) => `${pattern(h)} ${hostPub(h)}`));
    const proxyJump = `${fleet.user}@127.0.0.1:${relayPort}`;
    const offsets = behind.map(logSize);
    const connector = new SshConnector();
    try {
      const where = await Promise.all(behind.map((h) => whereAmI(connector, target(h, { proxyJump, knownHostsFiles: [known] }))));
      expect(where).toEqual(behind.map((h) => h.name));
      // A second round on new connections still reuses the same bastion connection.
      expect(await whereAmI(connector, { ...target(h2, { proxyJump, knownHostsFiles: [known] }), name: 'h2-again' })).toBe('h2');
    } finally {
      await connector.closeAll();
    }
    expect(relay.connections).toBe(1);
    behind.forEach((h, i) => expect(acceptedFrom(h, offsets[i] as number, h1.address).length).toBeGreaterThanOrEqual(1));
  });

  it('targets that differ only in their own user share the bastion connection', async () => {
    const known = knownHostsFile(`[127.0.0.1]:${relayPort} ${hostPub(h1)}`, `${pattern(h2)} ${hostPub(h2)}`, `${pattern(h3)} ${hostPub(h3)}`);
    // The bastion's user is given in the ProxyJump, so only the targets' users differ.
    const proxyJump = `${fleet.user}@127.0.0.1:${relayPort}`;
    const as = (h: FleetHost, user: string): SshTarget => ({ ...fleetTarget(fleet, h, { proxyJump, knownHostsFiles: [known] }, user), name: `${h.name}-${user}` });
    const before = relay.connections;
    const connector = new SshConnector();
    const run = async (t: SshTarget) => (await new Host(await connector.connect(t)).exec(`id -un; cat /srv/${marker}`)).stdout.trim();
    try {
      expect(await run(as(h2, fleet.user))).toBe(`${fleet.user}\nh2`);
      expect(await run(as(h2, fleet.passwordUser))).toBe(`${fleet.passwordUser}\nh2`);
      // And concurrently, on new connections.
      expect(await Promise.all([run(as(h3, fleet.user)), run(as(h3, fleet.passwordUser))])).toEqual([
        `${fleet.user}\nh3`,
        `${fleet.passwordUser}\nh3`,
      ]);
    } finally {
      await connector.closeAll();
    }
    expect(relay.connections - before).toBe(1);
  });

  it('a jump connection that dropped is re-established for later targets', async () => {
    const known = knownHostsFile(`[127.0.0.1]:${relayPort} ${hostPub(h1)}`, `${pattern(h2)} ${hostPub(h2)}`, `${pattern(h3)} ${hostPub(h3)}`);
    const proxyJump = `${fleet.user}@127.0.0.1:${relayPort}`;
    const connector = new SshConnector();
    try {
      expect(await whereAmI(connector, target(h2, { proxyJump, knownHostsFiles: [known] }))).toBe('h2');
      const before = relay.connections;
      relay.dropAll(); // the link to the bastion drops
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await whereAmI(connector, target(h3, { proxyJump, knownHostsFiles: [known] }))).toBe('h3');
      expect(relay.connections).toBe(before + 1);
    } finally {
      await connector.closeAll();
    }
  });

  it('separate connectors do not share jump connections', async () => {
    const before = relay.connections;
    const known = knownHostsFile(`[127.0.0.1]:${relayPort} ${hostPub(h1)}`, `${pattern(h2)} ${hostPub(h2)}`);
    const a = new SshConnector();
    const b = new SshConnector();
    try {
      const t = target(h2, { proxyJump: `${fleet.user}@127.0.0.1:${relayPort}`, knownHostsFiles: [known] });
      expect(await Promise.all([whereAmI(a, t), whereAmI(b, t)])).toEqual(['h2', 'h2']);
    } finally {
      await Promise.all([a.closeAll(), b.closeAll()]);
    }
    expect(relay.connections - before).toBe(2);
  });
});

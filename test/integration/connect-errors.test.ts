// Connection failures against real sshd hosts and fake servers: each error
// names the host, says what happened, comes with a `→` hint, and arrives
// quickly. Plus many simultaneous handshakes to one sshd (MaxStartups).
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError, Host, SshConnector, type SshOptions, type SshTarget } from '../../core/index.js';
import type { FleetHost, FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetTarget } from './fleet-targets.js';
import { startPrivateSshd, type PrivateSshd } from './private-sshd.js';

let fleet: FleetState;
/** Where this file's private sshds run: not the last host, which other files stop and start. */
let home: FleetHost;

function target(name: string, address: string, port: number, ssh: SshOptions = {}): SshTarget {
  return { ...fleetTarget(fleet, fleet.hosts[0] as FleetHost, ssh), name, address, port };
}

/** Connects, expecting failure; returns the error and how long it took. */
async function failure(t: SshTarget, connector = new SshConnector()): Promise<{ error: ConnectionError; ms: number }> {
  const t0 = Date.now();
  try {
    await connector.connect(t);
  } catch (error) {
    const ms = Date.now() - t0;
    if (!(error instanceof ConnectionError)) throw new Error(`expected a ConnectionError, got ${String(error)}`, { cause: error });
    return { error, ms };
  } finally {
    await connector.closeAll();
  }
  throw new Error(`connecting to ${t.name} succeeded; expected it to fail`);
}

/** What every connection error must offer: the host by name, and a next step. */
function expectHelpful(error: ConnectionError, name: string) {
  expect(error.message).toContain(name);
  expect(error.host).toBe(name);
  expect(error.hint).toBeTruthy();
  expect(error.describe()).toMatch(/\n {2}→ \S/);
  expect(error.message).not.toMatch(/\n\s+at /);
}

/** A TCP server on 127.0.0.1 that does `onConnection` with every client. */
async function fakeServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A target for a private sshd. */
function privateTarget(sshd: PrivateSshd, name: string, ssh: SshOptions = {}): SshTarget {
  return { ...fleetTarget(fleet, sshd.host, { knownHostsFiles: [sshd.knownHosts], ...ssh }), port: sshd.port, name };
}

beforeAll(() => {
  fleet = useFleet();
  home = fleet.hosts[1] ?? (fleet.hosts[0] as FleetHost);
});

describe('unreachable hosts', () => {
  it('no sshd (it was running, then stopped): connection refused, fast, suggesting to check sshd', async () => {
    const sshd = await startPrivateSshd(fleet, home, home.port === 22 ? 2201 : home.port + 101);
    const t = privateTarget(sshd, 'web-down');
    const connector = new SshConnector();
    try {
      const connection = await connector.connect(t); // up: connects
      expect((await new Host(connection).exec('echo up')).stdout.trim()).toBe('up');
    } finally {
      await connector.closeAll();
      await sshd.stop();
    }
    const { error, ms } = await failure(t);
    expect(ms).toBeLessThan(1500); // refused is final: no handshake retries
    expect(error.message).toMatch(/connection refused/);
    expect(error.message).toContain(`${home.address}:${sshd.port}`);
    expect(error.hint).toMatch(/sshd/);
    expectHelpful(error, 'web-down');
  });

  it('a server that accepts but never says anything: timeout within connectTimeout', async () => {
    const silent = await fakeServer(() => undefined);
    try {
      const { error, ms } = await failure(target('web-silent', '127.0.0.1', silent.port, { connectTimeout: 1500 }));
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(1500 + 1000);
      expect(error.message).toMatch(/timed out after 1\.5s/);
      expect(error.message).toContain(`127.0.0.1:${silent.port}`);
      expect(error.hint).toMatch(/connectTimeout/);
      expectHelpful(error, 'web-silent');
    } finally {
      await silent.close();
    }
  });

  it('an unused address in the fleet subnet: timeout (or unreachable) within connectTimeout', async () => {
    const unused = home.address.replace(/\.\d+$/, '.250');
    const { error, ms } = await failure(target('web-nowhere', unused, home.port, { connectTimeout: 1500 }));
    expect(ms).toBeLessThan(1500 + 1000);
    // Normally the 1.5 s timeout; a kernel that already gave up on the address's ARP says unreachable at once.
    expect(error.message).toMatch(/timed out after 1\.5s|unreachable|refused/);
    expect(error.message).toContain(unused);
    expectHelpful(error, 'web-nowhere');
  });

  it('an unknown host name: cannot resolve', async () => {
    const { error, ms } = await failure(target('web-typo', 'no-such-host.invalid', 22));
    expect(ms).toBeLessThan(3000);
    expect(error.message).toMatch(/cannot resolve host name "no-such-host\.invalid"/);
    expect(error.hint).toMatch(/spelling|DNS/);
    expectHelpful(error, 'web-typo');
  });
});

describe('servers that are not SSH', () => {
  it('a web server on the port (answers with HTTP and hangs up): says it is not SSH, without retrying', async () => {
    const http = await fakeServer((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')),
    );
    try {
      const { error, ms } = await failure(target('web-http', '127.0.0.1', http.port, { connectTimeout: 5000 }));
      expect(ms).toBeLessThan(1500);
      expect(error.message).toMatch(/not an SSH server/);
      expect(error.message).toContain('HTTP/1.1 400 Bad Request');
      expect(error.message).toContain(`127.0.0.1:${http.port}`);
      expect(error.hint).toMatch(/port/);
      expectHelpful(error, 'web-http');
    } finally {
      await http.close();
    }
  });

  it('a garbage banner that stays open: says it is not SSH once connectTimeout passes', async () => {
    const smtp = await fakeServer((socket) => socket.write('220 mail.example.com ESMTP ready\r\n'));
    try {
      const { error, ms } = await failure(target('web-smtp', '127.0.0.1', smtp.port, { connectTimeout: 1500 }));
      expect(ms).toBeLessThan(1500 + 1000);
      expect(error.message).toMatch(/not an SSH server/);
      expect(error.message).toContain('220 mail.example.com ESMTP ready');
      expectHelpful(error, 'web-smtp');
    } finally {
      await smtp.close();
    }
  });

  it('an invalid SSH identification line', async () => {
    const bad = await fakeServer((socket) => socket.write('SSH-garbage\r\n'));
    try {
      const { error, ms } = await failure(target('web-badident', '127.0.0.1', bad.port, { connectTimeout: 5000 }));
      expect(ms).toBeLessThan(1500);
      expect(error.message).toMatch(/not an SSH server|identification/);
      expect(error.message).toContain('SSH-garbage');
      expectHelpful(error, 'web-badident');
    } finally {
      await bad.close();
    }
  });
});

describe('many simultaneous handshakes to one sshd (MaxStartups 10:30:100)', () => {
  let sshd: PrivateSshd;

  beforeAll(async () => {
    sshd = await startPrivateSshd(fleet, home, home.port === 22 ? 2200 : home.port + 100);
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  const logSize = () => statSync(sshd.logFile).size;
  const dropsSince = (offset: number) => (readFileSync(sshd.logFile).subarray(offset).toString('utf8').match(/past MaxStartups/g) ?? []).length;

  async function runAll(connectors: SshConnector[], perConnector: number): Promise<string[]> {
    try {
      return await Promise.all(
        connectors.flatMap((connector, i) =>
          Array.from({ length: perConnector }, async (_, j) => {
            // A generous timeout: this is about dropped handshakes, not slow ones on a busy machine.
            const connection = await connector.connect(privateTarget(sshd, `flood-${i}-${j}`, { connectTimeout: 20_000 }));
            return (await new Host(connection).exec(`echo ${i}-${j}`)).stdout.trim();
          }),
        ),
      );
    } finally {
      await Promise.all(connectors.map((c) => c.closeAll()));
    }
  }

  it('40 connections through one connector all succeed', async () => {
    const out = await runAll([new SshConnector()], 40);
    expect(out).toEqual(Array.from({ length: 40 }, (_, j) => `0-${j}`));
  });

  it('40 separate connectors (no shared cap) all succeed through jittered retries', async () => {
    const offset = logSize();
    const out = await runAll(
      Array.from({ length: 40 }, () => new SshConnector()),
      1,
    );
    expect(out).toEqual(Array.from({ length: 40 }, (_, i) => `${i}-0`));
    // The scenario really overloaded sshd: it dropped handshakes, and they were retried.
    expect(dropsSince(offset)).toBeGreaterThan(0);
  });
});

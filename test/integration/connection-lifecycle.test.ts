// The life of one SSH connection against real sshd hosts: close() is for
// good, a stop while the connection is still being made returns at once, the
// SFTP session gives its channel slot back, transfers can be aborted, and
// `resolved` never shows credentials.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, ConnectionError, Host, SshConnector, TransferError, cmd, type SshTarget } from '../../core/index.js';
import { isSecret } from '../../core/command/index.js';
import type { FleetHost, FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetTarget, hostNamed } from './fleet-targets.js';
import { startPrivateSshd, type PrivateSshd } from './private-sshd.js';

const tag = randomBytes(4).toString('hex');
const work = `/srv/lifecycle-test-${tag}`;

let fleet: FleetState;
/** h2: not the last host, which exec.test.ts stops and starts. */
let home: FleetHost;
let local: string;
let small: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  fleet = useFleet();
  home = fleet.hosts[1] ?? (fleet.hosts[0] as FleetHost);
  local = mkdtempSync(path.join(tmpdir(), 'deployr-lifecycle-test-'));
  small = path.join(local, 'small.txt');
  writeFileSync(small, 'small\n');
  const connector = new SshConnector();
  await new Host(await connector.connect(fleetTarget(fleet, home))).mkdirp(work);
  await connector.closeAll();
});

afterAll(async () => {
  const connector = new SshConnector();
  await new Host(connector.connection(fleetTarget(fleet, home))).exec(cmd`rm -rf -- ${work}`, { nothrow: true });
  await connector.closeAll();
  rmSync(local, { recursive: true, force: true });
});

describe('close()', () => {
  it('is for good: later commands and transfers fail with a ConnectionError saying so, and a second close() returns at once', async () => {
    const connector = new SshConnector();
    try {
      const h = new Host(connector.connection(fleetTarget(fleet, home)));
      expect((await h.exec('echo up')).stdout).toBe('up\n');
      await h.close();
      const started = Date.now();
      await h.close();
      expect(Date.now() - started).toBeLessThan(1_000);

      const error = (await h.exec('echo again').catch((e: unknown) => e)) as ConnectionError;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.host).toBe(home.name);
      expect(error.message).toContain(home.name);
      expect(error.message).toMatch(/closed by deployr/);
      expect(error.hint).toBeTruthy();
      await expect(h.put(small, `${work}/after-close.txt`)).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      await connector.closeAll();
    }
  });

  it('a connection closed before its first use never connects', async () => {
    const connector = new SshConnector();
    try {
      const connection = connector.connection(fleetTarget(fleet, home));
      await connection.close();
      const error = await new Host(connection).exec('true').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toMatch(/closed by deployr/);
      expect(connection.resolved).toBeUndefined(); // never connected
    } finally {
      await connector.closeAll();
    }
  });

  it('a command still running at close() fails with a ConnectionError that says deployr closed the connection', async () => {
    const connector = new SshConnector();
    try {
      const h = new Host(connector.connection(fleetTarget(fleet, home)));
      let running: Promise<unknown> = Promise.resolve();
      await new Promise<void>((resolve) => {
        running = h.exec('echo started; sleep 30', { onStdout: () => resolve() }).catch((e: unknown) => e);
      });
      await h.close();
      const error = (await running) as ConnectionError;
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain(home.name);
      expect(error.message).toMatch(/closed by deployr/);
      expect(error.message).not.toMatch(/lost/);
    } finally {
      await connector.closeAll();
    }
  });
});

/** A TCP relay that lets a connection through only after `delayMs`: a slow handshake. */
async function startSlowRelay(host: string, port: number, delayMs: number): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections += 1;
    sockets.add(client);
    client.pause();
    client.on('error', () => undefined);
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = net.connect({ host, port });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a stop while the connection is still being made', () => {
  it('a timeout or an abort returns at once as a command that never started; the connect goes on for later commands', async () => {
    const relay = await startSlowRelay(home.address, home.port, 1500);
    const pub = readFileSync(path.join(home.root, 'ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const knownHosts = path.join(local, 'slow-relay-known-hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${relay.port} ${pub}\n`);
    const target: SshTarget = { ...fleetTarget(fleet, home, { knownHostsFiles: [knownHosts] }), name: 'slow', address: '127.0.0.1', port: relay.port };
    const connector = new SshConnector();
    try {
      const h = new Host(connector.connection(target));
      let started = Date.now();
      const timedOut = await h.exec('true', { timeout: 300 }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(timedOut).toBeInstanceOf(CommandError);
      expect(timedOut).toMatchObject({ timedOut: true, aborted: false, host: 'slow' });

      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      started = Date.now();
      const aborted = await h.exec('true', { signal: controller.signal }).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(aborted).toBeInstanceOf(CommandError);
      expect(aborted).toMatchObject({ aborted: true, timedOut: false });

      expect((await h.exec('echo later')).stdout).toBe('later\n');
      expect(relay.connections).toBe(1); // one connect, shared by all three
    } finally {
      await connector.closeAll();
      await relay.close();
    }
  });
});

/** sftp-server processes started by the sshd with this pid (the same pid namespace as the tests). */
function sftpServersUnder(sshdPid: number): number[] {
  if (!(sshdPid > 1)) throw new Error(`not an sshd pid: ${sshdPid}`);
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
  const under = new Set([String(sshdPid)]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of rows) {
      if (pid && ppid && under.has(ppid) && !under.has(pid)) {
        under.add(pid);
        grew = true;
      }
    }
  }
  return rows.filter(([pid, , comm]) => pid && under.has(pid) && comm?.startsWith('sftp-server')).map(([pid]) => Number(pid));
}

describe('the SFTP session', () => {
  let noSftp: PrivateSshd;
  let externalSftp: PrivateSshd;

  beforeAll(async () => {
    const base = home.port === 22 ? 2202 : home.port + 102;
    noSftp = await startPrivateSshd(fleet, home, base, (config) => config.replace(/^Subsystem\s+sftp\s+.*$/m, 'Subsystem sftp /nonexistent'));
    // A separate sftp-server process per session, so a test can kill one session's server.
    externalSftp = await startPrivateSshd(fleet, home, base + 1, (config) =>
      config.replace(/^Subsystem\s+sftp\s+.*$/m, 'Subsystem sftp /usr/lib/openssh/sftp-server'),
    );
  });

  afterAll(async () => {
    await noSftp?.stop();
    await externalSftp?.stop();
  });

  it('that cannot be opened leaves commands unharmed: after more failed transfers than channels, commands still run', async () => {
    const connector = new SshConnector();
    try {
      const h = new Host(connector.connection(noSftp.target('no-sftp', { maxChannels: 2 })));
      expect((await h.exec('echo up')).stdout).toBe('up\n');
      for (let i = 0; i < 3; i += 1) {
        const error = (await h.put(small, `${work}/never-${i}.txt`).catch((e: unknown) => e)) as TransferError;
        expect(error).toBeInstanceOf(TransferError);
        expect(error.message).toMatch(/SFTP subsystem is not available/);
        expect(error.message).toContain('no-sftp');
      }
      await expect(h.get(`${work}/whatever`, path.join(local, 'never'))).rejects.toBeInstanceOf(TransferError);
      // Had failed sessions taken command slots, this would wait for a channel for ever: the timeout turns that into a clear failure.
      const [a, b] = await Promise.all([h.exec('echo one', { timeout: 5_000 }), h.exec('echo two', { timeout: 5_000 })]);
      expect([a.stdout, b.stdout]).toEqual(['one\n', 'two\n']);
    } finally {
      await connector.closeAll();
    }
  });

  it('that died is replaced by the next transfer', async () => {
    const connector = new SshConnector();
    try {
      const h = new Host(connector.connection(externalSftp.target('sftp-dies', { maxChannels: 2 })));
      await h.put(small, `${work}/first.txt`);
      const servers = sftpServersUnder(externalSftp.pid);
      expect(servers).toHaveLength(1);
      for (const pid of servers) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && sftpServersUnder(externalSftp.pid).length > 0; i += 1) await sleep(20);
      await sleep(300); // the channel's close reaches us
      await h.put(small, `${work}/second.txt`);
      expect((await h.exec(cmd`cat ${work}/second.txt`, { timeout: 5_000 })).stdout).toBe('small\n');
      // Commands are unaffected by the session's death and replacement.
      const both = await Promise.all([h.exec('echo a', { timeout: 5_000 }), h.exec('echo b', { timeout: 5_000 })]);
      expect(both.map((r) => r.stdout)).toEqual(['a\n', 'b\n']);
    } finally {
      await connector.closeAll();
    }
  });

  it('stays outside the command cap: with maxChannels 1, a transfer completes while a command holds the only slot', async () => {
    const connector = new SshConnector();
    try {
      const h = new Host(connector.connection(fleetTarget(fleet, home, { maxChannels: 1 })));
      let commandDone = false;
      const command = h.exec('sleep 2').then(() => (commandDone = true));
      await sleep(200); // the command has the slot
      await h.put(small, `${work}/beside.txt`);
      expect(commandDone).toBe(false);
      await command;
      expect((await h.exec(cmd`cat ${work}/beside.txt`)).stdout).toBe('small\n');
    } finally {
      await connector.closeAll();
    }
  });

  it('an aborted put or get rejects at once with a TransferError; the next transfer works', async () => {
    const big = path.join(local, 'big.bin');
    writeFileSync(big, randomBytes(64 * 1024 * 1024));
    const connector = new SshConnector();
    try {
      const h = new Host(connector.connection(fleetTarget(fleet, home)));
      await expect(h.put(small, `${work}/x.txt`, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TransferError);

      const up = new AbortController();
      let started = 0;
      const put = await h
        .put(big, `${work}/big.bin`, {
          signal: up.signal,
          onProgress: () => {
            if (started) return;
            started = Date.now();
            up.abort();
          },
        })
        .then(
          () => 'resolved',
          (e: unknown) => e,
        );
      expect(put).toBeInstanceOf(TransferError);
      expect((put as TransferError).message).toMatch(/aborted/);
      expect((put as TransferError).message).toContain(home.name);
      expect(Date.now() - started).toBeLessThan(2_000);

      await h.put(big, `${work}/big-whole.bin`);
      const down = new AbortController();
      started = 0;
      const get = await h
        .get(`${work}/big-whole.bin`, path.join(local, 'big.back'), {
          signal: down.signal,
          onProgress: () => {
            if (started) return;
            started = Date.now();
            down.abort();
          },
        })
        .then(
          () => 'resolved',
          (e: unknown) => e,
        );
      expect(get).toBeInstanceOf(TransferError);
      expect(Date.now() - started).toBeLessThan(2_000);

      await h.put(small, `${work}/after-abort.txt`);
      expect((await h.exec(cmd`cat ${work}/after-abort.txt`)).stdout).toBe('small\n');
    } finally {
      await connector.closeAll();
    }
  });
});

describe('resolved settings', () => {
  it('show no password, passphrase or private key, in JSON or util.inspect', async () => {
    const connector = new SshConnector();
    try {
      const h1 = hostNamed(fleet, 'h1');
      const withPassword = await connector.connect(fleetTarget(fleet, h1, { identityFile: [], password: fleet.password }, fleet.passwordUser));
      const withPassphrase = await connector.connect(
        fleetTarget(fleet, h1, { identityFile: fleet.passphraseKey.path, passphrase: fleet.passphraseKey.passphrase }),
      );
      const key = readFileSync(fleet.clientKey, 'utf8');
      const withKey = await connector.connect(fleetTarget(fleet, h1, { identityFile: [], privateKey: key }));
      const keyBody = key.split('\n')[1] as string;

      expect(withPassword.resolved).toMatchObject({ hostname: h1.address, user: fleet.passwordUser });
      expect(isSecret(withPassword.resolved?.password)).toBe(true);
      expect(isSecret(withPassphrase.resolved?.passphrase)).toBe(true);
      expect(withKey.resolved?.privateKey).toBeUndefined();
      for (const [connection, value] of [
        [withPassword, fleet.password],
        [withPassphrase, fleet.passphraseKey.passphrase],
        [withKey, keyBody],
      ] as const) {
        expect(JSON.stringify(connection.resolved)).not.toContain(value);
        expect(inspect(connection.resolved, { depth: 5 })).not.toContain(value);
      }
    } finally {
      await connector.closeAll();
    }
  });
});

// Host key verification against real sshd hosts: known_hosts in its OpenSSH
// forms (plain, hashed by the real ssh-keygen -H, [addr]:port, @revoked),
// pinned fingerprints, accept-new recording, and key type negotiation.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, HostKeyError, SshConnector, type HostKeyRecorded, type SshOptions, type SshTarget } from '../../core/index.js';
import type { FleetHost, FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetTarget, hostNamed } from './fleet-targets.js';
import { startTcpRelay, type TcpRelay } from './tcp-relay.js';

let fleet: FleetState;
let scratch: string;
let h1: FleetHost;
let h2: FleetHost;
let fileCount = 0;

/** A fresh known_hosts file in the scratch dir with these lines. */
function knownHostsFile(...lines: string[]): string {
  const file = path.join(scratch, `known_hosts_${++fileCount}`);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  return file;
}

/** `type base64` of one of a host's public keys, read from its root dir. */
function hostPub(h: FleetHost, type: 'ed25519' | 'rsa'): string {
  return readFileSync(path.join(h.root, `ssh_host_${type}_key.pub`), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/** The SHA256 fingerprint as the real ssh-keygen prints it. */
function keygenFingerprint(h: FleetHost, type: 'ed25519' | 'rsa'): string {
  const out = execFileSync('ssh-keygen', ['-lf', path.join(h.root, `ssh_host_${type}_key.pub`)], { encoding: 'utf8' });
  const fp = out.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${out}`);
  return fp;
}

/** How known_hosts names a fleet host (port 22: bare address). */
function pattern(h: FleetHost): string {
  return h.port === 22 ? h.address : `[${h.address}]:${h.port}`;
}

/** Target with only the given known_hosts files (plus the user's/system's, which have no fleet entries). */
function target(h: FleetHost, ssh: SshOptions = {}): SshTarget {
  return fleetTarget(fleet, h, ssh);
}

/** Connects, proves a command runs, closes. Returns the command's output. */
async function connectAndRun(t: SshTarget): Promise<string> {
  const connector = new SshConnector();
  try {
    const connection = await connector.connect(t);
    const r = await new Host(connection).exec('echo connected-$(id -un)');
    return r.stdout.trim();
  } finally {
    await connector.closeAll();
  }
}

async function hostKeyFailure(t: SshTarget): Promise<HostKeyError> {
  const connector = new SshConnector();
  try {
    await connector.connect(t);
  } catch (error) {
    if (error instanceof HostKeyError) return error;
    throw new Error(`expected a HostKeyError, got ${String(error)}`, { cause: error });
  } finally {
    await connector.closeAll();
  }
  throw new Error(`connecting to ${t.name} succeeded; expected a HostKeyError`);
}

beforeAll(() => {
  fleet = useFleet();
  h1 = hostNamed(fleet, 'h1');
  h2 = hostNamed(fleet, 'h2');
  scratch = mkdtempSync(path.join(tmpdir(), 'deployr-hostkeys-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('known_hosts', () => {
  it('connects when the host key is known', async () => {
    expect(await connectAndRun(target(h1))).toBe(`connected-${fleet.user}`);
  });

  it('refuses an unknown key with its ssh-keygen fingerprint and a hint', async () => {
    const error = await hostKeyFailure(target(h1, { knownHostsFiles: [knownHostsFile()] }));
    const fp = keygenFingerprint(h1, 'ed25519');
    expect(error.reason).toBe('unknown');
    expect(error.fingerprint).toBe(fp);
    expect(error.message).toContain(fp);
    expect(error.message).toContain('h1');
    expect(error.host).toBe('h1');
    expect(error.hint).toMatch(/hostKeyFingerprints/);
    expect(error.hint).toMatch(/accept-new/);
    expect(error.describe()).toContain('→');
  });

  it('refuses a changed key (same type, other key), also under accept-new', async () => {
    // h2's ed25519 key written down for h1: same type, different key.
    const file = knownHostsFile(`${pattern(h1)} ${hostPub(h2, 'ed25519')}`);
    const error = await hostKeyFailure(target(h1, { knownHostsFiles: [file] }));
    expect(error.reason).toBe('changed');
    expect(error.fingerprint).toBe(keygenFingerprint(h1, 'ed25519'));
    expect(error.message).toMatch(/CHANGED/);
    expect(error.message).toContain(`${file}:1`);

    const record = path.join(scratch, 'changed-record');
    const again = await hostKeyFailure(
      target(h1, { knownHostsFiles: [file], strictHostKeyChecking: 'accept-new', recordKnownHostsFile: record }),
    );
    expect(again.reason).toBe('changed');
    expect(existsSync(record)).toBe(false); // nothing recorded for a changed key
  });

  it('reports a revoked key even when a plain line trusts it too', async () => {
    const file = knownHostsFile(`${pattern(h1)} ${hostPub(h1, 'ed25519')}`, `@revoked ${pattern(h1)} ${hostPub(h1, 'ed25519')}`);
    const error = await hostKeyFailure(target(h1, { knownHostsFiles: [file] }));
    expect(error.reason).toBe('revoked');
    expect(error.fingerprint).toBe(keygenFingerprint(h1, 'ed25519'));
    expect(error.message).toContain(`${file}:2`);
  });

  it('reads known_hosts hashed by the real ssh-keygen -H', async () => {
    const file = knownHostsFile(`${pattern(h2)} ${hostPub(h2, 'ed25519')}`, `${pattern(h1)} ${hostPub(h1, 'ed25519')}`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'pipe' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(h1.address); // really hashed
    expect(text.trim().split('\n').every((line) => line.startsWith('|1|'))).toBe(true);
    expect(await connectAndRun(target(h1, { knownHostsFiles: [file] }))).toBe(`connected-${fleet.user}`);

    // The hashed h2 line must not match h1: with only it, h1 is unknown.
    const onlyH2 = knownHostsFile(`${pattern(h2)} ${hostPub(h2, 'ed25519')}`);
    execFileSync('ssh-keygen', ['-H', '-f', onlyH2], { stdio: 'pipe' });
    expect((await hostKeyFailure(target(h1, { knownHostsFiles: [onlyH2] }))).reason).toBe('unknown');
  });

  it('accepts the fleet host under its usual name and under [addr]:22 for port 22', async () => {
    // Wildcard line that covers every fleet address, with negation excluding h2.
    const [a, b, c] = h1.address.split('.');
    const glob = `${a}.${b}.${c}.*`;
    const pinned = `${h1.port === 22 ? glob : `[${glob}]:${h1.port}`},!${pattern(h2)} ${hostPub(h1, 'ed25519')}`;
    expect(await connectAndRun(target(h1, { knownHostsFiles: [knownHostsFile(pinned)] }))).toBe(`connected-${fleet.user}`);
    if (h1.port === 22) {
      const bracketed = knownHostsFile(`[${h1.address}]:22 ${hostPub(h1, 'ed25519')}`);
      expect(await connectAndRun(target(h1, { knownHostsFiles: [bracketed] }))).toBe(`connected-${fleet.user}`);
    }
  });
});

describe('non-standard port: [addr]:port', () => {
  // A TCP relay on 127.0.0.1:<random port> to h1's sshd, so the host is reached on a port other than 22.
  let relay: TcpRelay;
  let port: number;

  beforeAll(async () => {
    relay = await startTcpRelay(h1.address, h1.port);
    port = relay.port;
  });

  afterAll(() => relay.close());

  const relayTarget = (ssh: SshOptions): SshTarget => ({ ...fleetTarget(fleet, h1, ssh), name: 'h1-relay', address: '127.0.0.1', port });

  it('matches [127.0.0.1]:port entries', async () => {
    const file = knownHostsFile(`[127.0.0.1]:${port} ${hostPub(h1, 'ed25519')}`);
    expect(await connectAndRun(relayTarget({ knownHostsFiles: [file] }))).toBe(`connected-${fleet.user}`);
  });

  it('does not let a bare-address or other-port entry cover this port', async () => {
    const file = knownHostsFile(`127.0.0.1 ${hostPub(h1, 'ed25519')}`, `[127.0.0.1]:${port + 1} ${hostPub(h1, 'ed25519')}`);
    const error = await hostKeyFailure(relayTarget({ knownHostsFiles: [file] }));
    expect(error.reason).toBe('unknown');
    expect(error.message).toContain(`[127.0.0.1]:${port}`);
  });

  it('records accept-new keys as [127.0.0.1]:port', async () => {
    const record = path.join(scratch, 'relay-record');
    expect(
      await connectAndRun(relayTarget({ knownHostsFiles: [record], recordKnownHostsFile: record, strictHostKeyChecking: 'accept-new' })),
    ).toBe(`connected-${fleet.user}`);
    expect(readFileSync(record, 'utf8')).toBe(`[127.0.0.1]:${port} ${hostPub(h1, 'ed25519')}\n`);
  });
});

describe('pinned fingerprints', () => {
  it('connects with a matching pin and an empty known_hosts', async () => {
    const t = target(h1, { knownHostsFiles: [knownHostsFile()], hostKeyFingerprints: [keygenFingerprint(h1, 'ed25519')] });
    expect(await connectAndRun(t)).toBe(`connected-${fleet.user}`);
  });

  it('refuses a key that does not match the pin, even when known_hosts trusts it', async () => {
    const t = target(h1, { hostKeyFingerprints: [keygenFingerprint(h2, 'ed25519')] });
    const error = await hostKeyFailure(t);
    expect(error.reason).toBe('changed');
    expect(error.fingerprint).toBe(keygenFingerprint(h1, 'ed25519'));
    expect(error.message).toMatch(/pinned/);
  });

  it('a pin does not override @revoked: a revoked key stays refused even when it is the pinned one', async () => {
    const file = knownHostsFile(`@revoked * ${hostPub(h1, 'ed25519')}`);
    const fp = keygenFingerprint(h1, 'ed25519');
    const error = await hostKeyFailure(target(h1, { knownHostsFiles: [file], hostKeyFingerprints: [fp] }));
    expect(error.reason).toBe('revoked');
    expect(error.fingerprint).toBe(fp);
    expect(error.host).toBe('h1');
    expect(error.message).toContain(`${file}:1`);
    // The revocation is what refuses it: the same pin without that line connects.
    expect(await connectAndRun(target(h1, { knownHostsFiles: [knownHostsFile()], hostKeyFingerprints: [fp] }))).toBe(`connected-${fleet.user}`);
  });

  it('a pin still replaces plain known_hosts lines: a revoked key of another host does not refuse the pinned one', async () => {
    const file = knownHostsFile(`@revoked * ${hostPub(h2, 'ed25519')}`, `${pattern(h1)} ${hostPub(h2, 'ed25519')}`);
    const t = target(h1, { knownHostsFiles: [file], hostKeyFingerprints: [keygenFingerprint(h1, 'ed25519')] });
    expect(await connectAndRun(t)).toBe(`connected-${fleet.user}`);
  });
});

describe('accept-new', () => {
  it('records the key, and a strict connection then trusts the recorded file', async () => {
    const record = path.join(scratch, 'sub', 'dir', 'recorded_known_hosts'); // directories are created
    const empty = knownHostsFile();
    expect(
      await connectAndRun(target(h1, { knownHostsFiles: [empty], recordKnownHostsFile: record, strictHostKeyChecking: 'accept-new' })),
    ).toBe(`connected-${fleet.user}`);
    const recorded = readFileSync(record, 'utf8');
    expect(recorded).toBe(`${pattern(h1)} ${hostPub(h1, 'ed25519')}\n`);
    expect(readFileSync(empty, 'utf8')).toBe('');

    expect(await connectAndRun(target(h1, { knownHostsFiles: [record], strictHostKeyChecking: 'yes' }))).toBe(`connected-${fleet.user}`);
    // Still strict: another host is not covered by the recorded line.
    expect((await hostKeyFailure(target(h2, { knownHostsFiles: [record], strictHostKeyChecking: 'yes' }))).reason).toBe('unknown');
  });

  it('reports every recorded key through onHostKeyRecorded, and only new ones', async () => {
    const record = path.join(scratch, 'reported_known_hosts');
    const seen: HostKeyRecorded[] = [];
    const connector = new SshConnector({ onHostKeyRecorded: (event) => seen.push(event) });
    try {
      const t = target(h1, { knownHostsFiles: [record], recordKnownHostsFile: record, strictHostKeyChecking: 'accept-new' });
      await connector.connect(t);
      await connector.connect({ ...t, name: 'h1-again' }); // now known: nothing new to report
    } finally {
      await connector.closeAll();
    }
    expect(seen).toEqual([{ host: 'h1', file: record, line: `${pattern(h1)} ${hostPub(h1, 'ed25519')}` }]);
  });
});

describe('key types', () => {
  it('negotiates RSA when known_hosts only has the RSA key (no false mismatch)', async () => {
    const file = knownHostsFile(`${pattern(h1)} ${hostPub(h1, 'rsa')}`);
    expect(await connectAndRun(target(h1, { knownHostsFiles: [file] }))).toBe(`connected-${fleet.user}`);
  });

  it('with an RSA-only entry the server is asked for its RSA key: a wrong RSA key is a change', async () => {
    // Proves the restriction: the key presented is h1's RSA key (not its preferred ed25519).
    const file = knownHostsFile(`${pattern(h1)} ${hostPub(h2, 'rsa')}`);
    const error = await hostKeyFailure(target(h1, { knownHostsFiles: [file] }));
    expect(error.reason).toBe('changed');
    expect(error.fingerprint).toBe(keygenFingerprint(h1, 'rsa'));
  });

  it('known_hosts_all (ed25519 + rsa) connects', async () => {
    const all = path.join(fleet.dir, 'known_hosts_all');
    expect(await connectAndRun(target(h1, { knownHostsFiles: [all] }))).toBe(`connected-${fleet.user}`);
  });
});

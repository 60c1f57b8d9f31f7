// planAuth hands ssh2 parsed keys and parses each key once per process:
// key files per (file version, passphrase), the default ~/.ssh/id_* keys,
// and ssh.privateKey. ssh2's parseKey returns a parsed key unchanged.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearKeyCache, keyCacheStats, planAuth } from '../../core/connection/ssh/auth.js';
import type { ResolvedSshSettings } from '../../core/connection/ssh/options.js';
import { ConfigError } from '../../core/errors.js';

const run = promisify(execFile);
let dir: string;
let oldHome: string | undefined;

function settings(overrides: Partial<ResolvedSshSettings> = {}): ResolvedSshSettings {
  return {
    name: 'web-1',
    hostname: 'web-1.example',
    port: 22,
    user: 'deploy',
    identityFiles: [],
    hostKeyFingerprints: [],
    knownHostsFiles: [],
    hashKnownHosts: false,
    strictHostKeyChecking: 'yes',
    connectTimeout: 20_000,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 3,
    ...overrides,
  };
}

async function keygen(file: string, passphrase = ''): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'auth-plan-test', '-f', file]);
  return file;
}

async function publicBlob(file: string): Promise<Buffer> {
  return Buffer.from((await readFile(`${file}.pub`, 'utf8')).split(' ')[1] as string, 'base64');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deployr-auth-plan-'));
  oldHome = process.env.HOME;
  process.env.HOME = dir;
  await mkdir(join(dir, '.ssh'));
});

afterAll(async () => {
  process.env.HOME = oldHome;
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => clearKeyCache());

describe('planAuth', () => {
  it('offers the default ~/.ssh/id_* keys as parsed keys, read and parsed once', async () => {
    await keygen(join(dir, '.ssh', 'id_ed25519'));
    await keygen(join(dir, '.ssh', 'id_ecdsa'), 'encrypted default keys are the agent job');
    const before = keyCacheStats.parses;
    const plans = await Promise.all([1, 2, 3].map(() => planAuth(settings())));
    await planAuth(settings());
    expect(keyCacheStats.parses - before).toBe(2); // id_ed25519 and id_ecdsa, once each
    for (const plan of plans) {
      expect(plan.described).toEqual([`key ${join(dir, '.ssh', 'id_ed25519')}`]);
      const [method] = plan.methods;
      expect(method?.type).toBe('publickey');
      const key = (method as { key: ssh2.ParsedKey }).key;
      expect(ssh2.utils.parseKey(key)).toBe(key); // what ssh2 does with it: hands it back
      expect(key.isPrivateKey()).toBe(true);
    }
    expect((plans[1]!.methods[0] as { key: unknown }).key).toBe((plans[0]!.methods[0] as { key: unknown }).key);
  });

  it('parses an encrypted identity file once per passphrase, without keeping the passphrase in clear', async () => {
    const file = await keygen(join(dir, 'enc'), 'correct horse');
    const before = keyCacheStats.parses;
    for (let i = 0; i < 3; i += 1) {
      const plan = await planAuth(settings({ identityFiles: [file], passphrase: 'correct horse' }));
      const key = (plan.methods[0] as { key: ssh2.ParsedKey }).key;
      expect(key.getPublicSSH().equals(await publicBlob(file))).toBe(true);
      expect(JSON.stringify(plan.methods)).not.toContain('correct horse');
    }
    expect(keyCacheStats.parses - before).toBe(1);
    await expect(planAuth(settings({ identityFiles: [file], passphrase: 'wrong' }))).rejects.toThrow(/bad passphrase/);
    expect(keyCacheStats.parses - before).toBe(2);
  });

  it('a key file replaced by another key is read again', async () => {
    const file = join(dir, 'replaced');
    await keygen(file);
    const first = (await planAuth(settings({ identityFiles: [file] }))).methods[0] as { key: ssh2.ParsedKey };
    await rm(file);
    await rm(`${file}.pub`);
    await keygen(file);
    const second = (await planAuth(settings({ identityFiles: [file] }))).methods[0] as { key: ssh2.ParsedKey };
    expect(second.key.getPublicSSH().equals(first.key.getPublicSSH())).toBe(false);
    await rm(file);
    await expect(planAuth(settings({ identityFiles: [file] }))).rejects.toBeInstanceOf(ConfigError); // gone: not served from the cache
  });

  it('ssh.privateKey is parsed once and passed parsed', async () => {
    const file = await keygen(join(dir, 'inline'), 'pp');
    const privateKey = await readFile(file, 'utf8');
    const before = keyCacheStats.parses;
    const a = (await planAuth(settings({ privateKey, passphrase: 'pp' }))).methods[0] as { key: ssh2.ParsedKey };
    const b = (await planAuth(settings({ privateKey, passphrase: 'pp' }))).methods[0] as { key: ssh2.ParsedKey };
    expect(keyCacheStats.parses - before).toBe(1);
    expect(b.key).toBe(a.key);
    expect(a.key.isPrivateKey()).toBe(true);
    await expect(planAuth(settings({ privateKey, passphrase: 'nope' }))).rejects.toThrow(/ssh\.privateKey cannot be used/);
  });
});

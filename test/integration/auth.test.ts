// Authentication against real sshd hosts: key files, passphrases, passwords,
// refused keys, and a real ssh-agent (including one holding many keys, where
// only the configured key may be offered). sshd's own log (LogLevel VERBOSE)
// is the witness for which keys were offered.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ConnectionError, Host, SshConnector, type SshOptions, type SshTarget } from '../../core/index.js';
import { clearKeyCache, keyCacheStats } from '../../core/connection/ssh/auth.js';
import { run, runOk } from '../fleet/exec.js';
import type { FleetHost, FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetTarget, hostNamed, connectFailure } from './fleet-targets.js';

let fleet: FleetState;
let scratch: string;
let h3: FleetHost;

const childEnv = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, LANG: 'C.UTF-8' });

function target(ssh: SshOptions = {}, user?: string): SshTarget {
  return fleetTarget(fleet, h3, ssh, user);
}

/** Logs in, returns the remote user, and remembers the client port sshd saw (see connectionLog). */
let lastClientPort = '';
async function whoami(t: SshTarget): Promise<string> {
  const connector = new SshConnector();
  try {
    const connection = await connector.connect(t);
    const [user = '', sshClient = ''] = (await new Host(connection).exec('id -un; echo "$SSH_CLIENT"')).stdout.trim().split('\n');
    lastClientPort = sshClient.split(' ')[1] ?? '';
    return user;
  } finally {
    await connector.closeAll();
  }
}

const failure = connectFailure;

async function fingerprint(file: string): Promise<string> {
  const out = await runOk('ssh-keygen', ['-lf', file.endsWith('.pub') ? file : `${file}.pub`]);
  return out.split(/\s+/)[1] as string;
}

async function newKey(name: string): Promise<string> {
  const file = path.join(scratch, name);
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `dpi-auth-${name}`, '-f', file]);
  return file;
}

// ------------------------------------------------------------------ sshd log

const logFile = () => path.join(h3.root, 'sshd.log');
const logSize = () => statSync(logFile()).size;
// sshd -E writes lines ending in \r\n.
const logSince = (offset: number) => readFileSync(logFile()).subarray(offset).toString('utf8').replace(/\r/g, '');

/**
 * sshd's log lines, since `offset`, of the last connection whoami() made:
 * sshd names every line of a connection by its client port. Other files'
 * connections to the same host may be interleaved; they have other ports.
 * Waits for the "Accepted <method>" line, which must carry `fp` when given.
 */
async function connectionLog(offset: number, method: 'publickey' | 'password', fp?: string): Promise<string[]> {
  const port = lastClientPort;
  expect(port).toMatch(/^\d+$/);
  const ours = (line: string) => line.includes(` port ${port} `) || line.endsWith(` port ${port}`) || line.includes(` port ${port}:`);
  for (let i = 0; i < 50; i += 1) {
    const lines = logSince(offset).split('\n').filter(ours);
    const accepted = lines.find((l) => l.startsWith(`Accepted ${method} for `));
    if (accepted) {
      if (fp) expect(accepted).toMatch(new RegExp(`: \\S+ ${fp.replace(/[+/]/g, '\\$&')}$`));
      return lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no "Accepted ${method}" for client port ${port} in ${logFile()}:\n${logSince(offset)}`);
}

// ------------------------------------------------------------------ ssh-agent

interface Agent {
  sock: string;
  add(file: string): Promise<void>;
  stop(): Promise<void>;
}

let agentCount = 0;
/** A real ssh-agent in the foreground (-D) on its own socket; stop() kills exactly it. */
async function startAgent(): Promise<Agent> {
  const sock = path.join(scratch, `agent-${++agentCount}.sock`);
  const child: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore', env: childEnv() });
  let exited = false;
  child.on('exit', () => (exited = true));
  for (let i = 0; !existsSync(sock); i += 1) {
    if (exited || i > 200) throw new Error(`ssh-agent did not create ${sock}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    sock,
    async add(file) {
      const r = await run('ssh-add', [file], { env: { ...childEnv(), SSH_AUTH_SOCK: sock }, timeoutMs: 10_000 });
      if (r.code !== 0) throw new Error(`ssh-add ${file} failed: ${r.stderr}`);
    },
    async stop() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** An unencrypted copy of the fleet's passphrase key (same key material), for ssh-add without a prompt. */
async function decryptedPassphraseKeyCopy(): Promise<string> {
  const copy = path.join(scratch, 'passphrase-decrypted');
  copyFileSync(fleet.passphraseKey.path, copy);
  copyFileSync(`${fleet.passphraseKey.path}.pub`, `${copy}.pub`);
  await runOk('ssh-keygen', ['-q', '-p', '-P', fleet.passphraseKey.passphrase, '-N', '', '-f', copy]);
  return copy;
}

beforeAll(() => {
  fleet = useFleet();
  h3 = hostNamed(fleet, 'h3');
  scratch = mkdtempSync(path.join(tmpdir(), 'deployr-auth-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('key files and passwords', () => {
  it('logs in with a key file', async () => {
    const offset = logSize();
    expect(await whoami(target())).toBe(fleet.user);
    const lines = await connectionLog(offset, 'publickey', await fingerprint(fleet.clientKey));
    expect(lines.filter((l) => l.startsWith('Failed'))).toEqual([]);
  });

  it('logs in with a passphrase-protected key and its passphrase', async () => {
    const offset = logSize();
    const t = target({ identityFile: fleet.passphraseKey.path, passphrase: fleet.passphraseKey.passphrase });
    expect(await whoami(t)).toBe(fleet.user);
    await connectionLog(offset, 'publickey', await fingerprint(fleet.passphraseKey.path));
  });

  it('a passphrase-protected key is decrypted once for many connections, and again when the file changes', async () => {
    clearKeyCache();
    const key = path.join(scratch, 'passphrase-cached');
    copyFileSync(fleet.passphraseKey.path, key);
    copyFileSync(`${fleet.passphraseKey.path}.pub`, `${key}.pub`);
    const withPassphrase = (passphrase: string) => target({ identityFile: key, passphrase });
    const parses = keyCacheStats.parses;
    // Three connections at once, then one more: one parse (its bcrypt KDF is ~0.3 s), shared.
    const users = await Promise.all([1, 2, 3].map(() => whoami(withPassphrase(fleet.passphraseKey.passphrase))));
    expect(users).toEqual([fleet.user, fleet.user, fleet.user]);
    const offset = logSize();
    expect(await whoami(withPassphrase(fleet.passphraseKey.passphrase))).toBe(fleet.user);
    await connectionLog(offset, 'publickey', await fingerprint(key));
    expect(keyCacheStats.parses - parses).toBe(1);

    // Another passphrase is another parse (the cached key is not handed out for it).
    const wrong = await failure(withPassphrase('not-the-passphrase'));
    expect(wrong.message).toMatch(/bad passphrase/);
    expect(keyCacheStats.parses - parses).toBe(2);

    // The file re-encrypted under a new passphrase: read and parsed again.
    await runOk('ssh-keygen', ['-q', '-p', '-P', fleet.passphraseKey.passphrase, '-N', 'a-new-passphrase', '-f', key]);
    expect(await whoami(withPassphrase('a-new-passphrase'))).toBe(fleet.user);
    expect((await failure(withPassphrase(fleet.passphraseKey.passphrase))).message).toMatch(/bad passphrase/);
    expect(keyCacheStats.parses - parses).toBe(4);
  });

  it('an encrypted key without passphrase or agent is a ConfigError naming the key file', async () => {
    const error = await failure(target({ identityFile: fleet.passphraseKey.path, agent: false }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(fleet.passphraseKey.path);
    expect(error.message).toMatch(/passphrase/);
    const e = error as ConfigError;
    expect(e.hint).toMatch(/ssh\.passphrase/);
    expect(e.hint).toMatch(/ssh-add/);
    expect(e.describe()).toContain('→');
  });

  it('a wrong passphrase is a clear ConfigError', async () => {
    const error = await failure(target({ identityFile: fleet.passphraseKey.path, passphrase: 'not-the-passphrase' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(fleet.passphraseKey.path);
    expect(error.message).toMatch(/bad passphrase/);
    expect((error as ConfigError).hint).toMatch(/passphrase/);
  });

  it('logs in with a password and no key', async () => {
    const offset = logSize();
    expect(await whoami(target({ identityFile: [], agent: false, password: fleet.password }, fleet.passwordUser))).toBe(
      fleet.passwordUser,
    );
    const lines = await connectionLog(offset, 'password');
    expect(lines.some((l) => l.startsWith(`Accepted password for ${fleet.passwordUser}`))).toBe(true);
  });

  it('a wrong password is refused authentication', async () => {
    const error = await failure(target({ identityFile: [], agent: false, password: 'wrong-password' }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/refused authentication/);
    expect(error.message).toContain('password');
    expect(error.message).not.toContain('wrong-password');
  });

  it('an unauthorized key is refused authentication, naming user@host, without stack noise', async () => {
    const error = await failure(target({ identityFile: fleet.unauthorizedKey }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/refused authentication/);
    expect(error.message).toContain(`${fleet.user}@${h3.address}`);
    expect(error.message).toContain(fleet.unauthorizedKey);
    expect(error.message).not.toMatch(/\n\s+at |node_modules|Error:|All configured authentication methods failed/);
    const e = error as ConnectionError;
    expect(e.host).toBe('h3');
    expect(e.describe()).toMatch(/→ .*authorized_keys/);
  });
});

describe('ssh-agent', () => {
  let agent: Agent;
  let unrelated: string[];

  beforeAll(async () => {
    agent = await startAgent();
    unrelated = await Promise.all(Array.from({ length: 8 }, (_, i) => newKey(`unrelated-${i}`)));
  });

  afterAll(async () => {
    await agent?.stop();
  });

  it('logs in with the agent key and no identityFile', async () => {
    const single = await startAgent();
    try {
      await single.add(fleet.clientKey);
      const offset = logSize();
      expect(await whoami(target({ identityFile: [], agent: single.sock }))).toBe(fleet.user);
      await connectionLog(offset, 'publickey', await fingerprint(fleet.clientKey));
    } finally {
      await single.stop();
    }
    expect(existsSync(single.sock)).toBe(false);
  });

  it('an agent offering too many keys: refused authentication, with a hint to set identityFile', async () => {
    const crowded = await startAgent();
    try {
      for (const key of unrelated) await crowded.add(key);
      const error = await failure(target({ identityFile: [], agent: crowded.sock }));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toMatch(/refused authentication: too many keys were offered/);
      expect(error.message).toContain(`${fleet.user}@${h3.address}`);
      expect((error as ConnectionError).hint).toMatch(/ssh\.identityFile/);
      expect((error as ConnectionError).host).toBe('h3');
    } finally {
      await crowded.stop();
    }
  });

  it('with identityFile set, offers only that key even when the agent holds 8 others', async () => {
    for (const key of unrelated) await agent.add(key);
    await agent.add(fleet.clientKey); // 9th: never reached if the agent's keys were offered in order
    const offset = logSize();
    expect(await whoami(target({ identityFile: fleet.clientKey, agent: agent.sock }))).toBe(fleet.user);
    const lines = await connectionLog(offset, 'publickey', await fingerprint(fleet.clientKey));
    expect(lines.filter((l) => /^Failed publickey/.test(l))).toEqual([]);
    const since = logSince(offset);
    for (const key of unrelated) expect(since).not.toContain(await fingerprint(key));
    expect(lines.join('\n')).not.toMatch(/Too many authentication failures|maximum authentication attempts/);
  });

  it('an encrypted identityFile without passphrase is used through the agent, alone', async () => {
    // The agent now holds the 8 unrelated keys, the client key, and (last) the passphrase key.
    await agent.add(await decryptedPassphraseKeyCopy());
    const offset = logSize();
    expect(await whoami(target({ identityFile: fleet.passphraseKey.path, agent: agent.sock }))).toBe(fleet.user);
    const lines = await connectionLog(offset, 'publickey', await fingerprint(fleet.passphraseKey.path));
    expect(lines.filter((l) => /^Failed publickey/.test(l))).toEqual([]);
    // The 8 unrelated keys exist only in this test: they must appear nowhere. The client key is used by
    // other files at the same time, so only this connection's lines (by client port) must not show it.
    const since = logSince(offset);
    for (const key of unrelated) expect(since).not.toContain(await fingerprint(key));
    const clientFp = await fingerprint(fleet.clientKey);
    expect(lines.filter((l) => l.includes(clientFp))).toEqual([]);
  });

  it('an encrypted identityFile whose key is not in the agent is refused, naming it', async () => {
    const empty = await startAgent();
    try {
      const error = await failure(target({ identityFile: fleet.passphraseKey.path, agent: empty.sock }));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toMatch(/refused authentication/);
      expect(error.message).toContain(`${fleet.passphraseKey.path} through ssh-agent`);
    } finally {
      await empty.stop();
    }
  });
});

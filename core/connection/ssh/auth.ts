import { createHmac, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import ssh2 from 'ssh2';
import { isSecret, revealSecret, type Secret } from '../../command/index.js';
import { ConfigError } from '../../errors.js';
import type { ResolvedSshSettings } from './options.js';

// ssh2's ESM build only names Client; utils and the agents come from the default export (NOTES-deps.md).
const { utils, OpenSSHAgent } = ssh2;

export type AuthMethod =
  /** `key` is parsed (and decrypted) once, here: ssh2's parseKey hands a parsed key back unchanged. */
  | { type: 'publickey'; username: string; key: ssh2.ParsedKey }
  | { type: 'agent'; username: string; agent: string | InstanceType<typeof OpenSSHAgent> }
  | { type: 'password'; username: string; password: string };

export interface AuthPlan {
  methods: AuthMethod[];
  /** What is offered, for the error message when every method is refused. */
  described: string[];
}

const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function reveal(value: string | Secret | undefined): string | undefined {
  if (value === undefined) return undefined;
  return isSecret(value) ? revealSecret(value) : value;
}

function isEncryptedKeyError(error: Error): boolean {
  return /no passphrase given/i.test(error.message);
}

// ---------------------------------------------------------------------------
// Parsed keys, cached for the process
// ---------------------------------------------------------------------------

/**
 * Parsing an encrypted key runs its KDF (bcrypt, ~0.3 s for OpenSSH's
 * default 16 rounds), so each key is read and parsed once per process, per
 * (file version, passphrase), and the parsed key is what ssh2 gets. A file
 * is read again when its mtime, ctime, size or inode changes. Passphrases
 * and inline keys appear in cache keys only as an HMAC under a random
 * per-process key.
 */
type KeyParse = ssh2.ParsedKey | Error;

interface CachedKey {
  version: string;
  parsed: Promise<KeyParse>;
}

const CACHE_KEY_SECRET = randomBytes(32);
const MAX_CACHED_KEYS = 64;
const keyCache = new Map<string, CachedKey>();

/** For tests and diagnostics: how many times a private key was parsed (and, if encrypted, decrypted). */
export const keyCacheStats = { parses: 0 };

/** Forget every cached key. */
export function clearKeyCache(): void {
  keyCache.clear();
}

function digest(value: string | Buffer | undefined): string {
  return value === undefined ? '-' : createHmac('sha256', CACHE_KEY_SECRET).update(value).digest('base64');
}

function parseKeyCounted(data: Buffer | string, passphrase: string | undefined): KeyParse {
  keyCacheStats.parses += 1;
  return utils.parseKey(data, passphrase);
}

function remember(cacheKey: string, version: string, parsed: Promise<KeyParse>): Promise<KeyParse> {
  keyCache.delete(cacheKey);
  keyCache.set(cacheKey, { version, parsed });
  if (keyCache.size > MAX_CACHED_KEYS) keyCache.delete(keyCache.keys().next().value as string);
  return parsed;
}

/** The parsed key in `file`; throws what stat/readFile throw. Concurrent callers share one parse. */
async function parsedKeyFile(file: string, passphrase: string | undefined): Promise<KeyParse> {
  const info = await stat(file);
  const version = `${info.mtimeMs}:${info.ctimeMs}:${info.size}:${info.ino}:${info.dev}`;
  const cacheKey = `file:${file}\0${digest(passphrase)}`;
  const cached = keyCache.get(cacheKey);
  if (cached?.version === version) return cached.parsed;
  // Stat before read: what is parsed is at least as new as `version`.
  const parsed = readFile(file).then((data) => parseKeyCounted(data, passphrase));
  remember(cacheKey, version, parsed);
  return parsed.catch((error: unknown) => {
    if (keyCache.get(cacheKey)?.parsed === parsed) keyCache.delete(cacheKey); // read errors are not cached
    throw error;
  });
}

/** The parsed ssh.privateKey (text or Buffer). */
function parsedInlineKey(key: string | Buffer, passphrase: string | undefined): Promise<KeyParse> {
  const cacheKey = `inline:${digest(key)}\0${digest(passphrase)}`;
  return keyCache.get(cacheKey)?.parsed ?? remember(cacheKey, '', Promise.resolve(parseKeyCounted(key, passphrase)));
}

/**
 * An ssh-agent that offers only one key. Without this an agent offers every
 * key it holds, and servers drop the connection after ~6 failures ("Too many
 * authentication failures"); with an identityFile set, OpenSSH offers only it.
 */
class SingleKeyAgent extends OpenSSHAgent {
  constructor(socket: string, private readonly publicKey: Buffer) {
    super(socket);
  }

  override getIdentities(cb: Parameters<InstanceType<typeof OpenSSHAgent>['getIdentities']>[0]): void {
    super.getIdentities((error, keys) => {
      if (error || !keys) return cb(error ?? undefined);
      const wanted = (keys as ssh2.ParsedKey[]).filter((key) => key.getPublicSSH().equals(this.publicKey));
      cb(undefined, wanted);
    });
  }
}

async function keyFileMethod(
  file: string,
  settings: ResolvedSshSettings,
): Promise<{ method: AuthMethod; described: string }> {
  const username = settings.user;
  const passphrase = reveal(settings.passphrase);
  let parsed: KeyParse;
  try {
    parsed = await parsedKeyFile(file, passphrase);
  } catch (error) {
    throw new ConfigError(`${settings.name}: cannot read SSH key ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      host: settings.name,
      hint: 'check ssh.identityFile (or IdentityFile in ~/.ssh/config) points to your private key',
      cause: error,
    });
  }
  if (!(parsed instanceof Error)) {
    return { method: { type: 'publickey', username, key: parsed }, described: `key ${file}` };
  }
  if (isEncryptedKeyError(parsed) && settings.agent) {
    // Encrypted key, no passphrase: OpenSSH would use the agent's copy of this key. Do the same.
    const publicKey = await readFile(`${file}.pub`, 'utf8').catch(() => undefined);
    const blob = publicKey?.trim().split(/\s+/)[1];
    if (blob) {
      return {
        method: { type: 'agent', username, agent: new SingleKeyAgent(settings.agent, Buffer.from(blob, 'base64')) },
        described: `key ${file} through ssh-agent`,
      };
    }
  }
  if (isEncryptedKeyError(parsed)) {
    throw new ConfigError(`${settings.name}: SSH key ${file} is protected by a passphrase and none was given`, {
      host: settings.name,
      hint: 'set ssh.passphrase (e.g. secret(process.env.DEPLOY_KEY_PASSPHRASE)), or add the key to ssh-agent with ssh-add',
    });
  }
  throw new ConfigError(`${settings.name}: cannot use SSH key ${file}: ${parsed.message}`, {
    host: settings.name,
    hint: passphrase === undefined ? 'check that the file is an OpenSSH or PEM private key' : 'check ssh.passphrase for this key',
  });
}

/**
 * Decides what to offer the server, as OpenSSH does: with a key configured,
 * only that key; otherwise the agent's keys, then the default key files;
 * a password last.
 */
export async function planAuth(settings: ResolvedSshSettings): Promise<AuthPlan> {
  const methods: AuthMethod[] = [];
  const described: string[] = [];
  const username = settings.user;

  if (settings.privateKey !== undefined) {
    const parsed = await parsedInlineKey(settings.privateKey, reveal(settings.passphrase));
    if (parsed instanceof Error) {
      throw new ConfigError(`${settings.name}: ssh.privateKey cannot be used: ${parsed.message}`, {
        host: settings.name,
        hint: 'pass the private key text (OpenSSH or PEM format), and ssh.passphrase when it is encrypted',
      });
    }
    methods.push({ type: 'publickey', username, key: parsed });
    described.push('ssh.privateKey');
  }
  for (const file of settings.identityFiles) {
    const { method, described: what } = await keyFileMethod(file, settings);
    methods.push(method);
    described.push(what);
  }

  if (methods.length === 0) {
    if (settings.agent) {
      methods.push({ type: 'agent', username, agent: settings.agent });
      described.push('ssh-agent keys');
    }
    const home = process.env.HOME ?? userInfo().homedir;
    for (const name of DEFAULT_KEY_FILES) {
      const file = `${home}/.ssh/${name}`;
      const parsed = await parsedKeyFile(file, undefined).catch(() => undefined);
      if (!parsed || parsed instanceof Error) continue; // missing, or encrypted: encrypted default keys are the agent's job
      methods.push({ type: 'publickey', username, key: parsed });
      described.push(`key ${file}`);
    }
  }

  const password = reveal(settings.password);
  if (password !== undefined) {
    methods.push({ type: 'password', username, password });
    described.push('password');
  }

  if (methods.length === 0) {
    throw new ConfigError(`${settings.name}: no way to log in as ${username}: no key configured, no ssh-agent running, no ~/.ssh/id_* key`, {
      host: settings.name,
      hint: 'set ssh.identityFile for this host (or IdentityFile in ~/.ssh/config), or start ssh-agent and ssh-add your key',
    });
  }
  return { methods, described };
}

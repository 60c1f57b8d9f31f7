import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import ssh2 from 'ssh2';
import { isSecret, revealSecret, type Secret } from '../../command/index.js';
import { ConfigError } from '../../errors.js';
import type { ResolvedSshSettings } from './options.js';

// ssh2's ESM build only names Client; utils and the agents come from the default export (NOTES-deps.md).
const { utils, OpenSSHAgent } = ssh2;

export type AuthMethod =
  | { type: 'publickey'; username: string; key: Buffer | string; passphrase?: string }
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
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    throw new ConfigError(`${settings.name}: cannot read SSH key ${file}: ${(error as NodeJS.ErrnoException).code ?? error}`, {
      host: settings.name,
      hint: 'check ssh.identityFile (or IdentityFile in ~/.ssh/config) points to your private key',
      cause: error,
    });
  }
  const passphrase = reveal(settings.passphrase);
  const parsed = utils.parseKey(data, passphrase);
  if (!(parsed instanceof Error)) {
    return {
      method: { type: 'publickey', username, key: data, ...(passphrase === undefined ? {} : { passphrase }) },
      described: `key ${file}`,
    };
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
    const passphrase = reveal(settings.passphrase);
    const parsed = utils.parseKey(settings.privateKey, passphrase);
    if (parsed instanceof Error) {
      throw new ConfigError(`${settings.name}: ssh.privateKey cannot be used: ${parsed.message}`, {
        host: settings.name,
        hint: 'pass the private key text (OpenSSH or PEM format), and ssh.passphrase when it is encrypted',
      });
    }
    methods.push({ type: 'publickey', username, key: settings.privateKey, ...(passphrase === undefined ? {} : { passphrase }) });
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
      const data = await readFile(file).catch(() => undefined);
      if (!data || utils.parseKey(data) instanceof Error) continue; // encrypted default keys are the agent's job
      methods.push({ type: 'publickey', username, key: data });
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

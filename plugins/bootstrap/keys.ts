// The deploy user's public keys: from key lines and local .pub files, merged
// into the authorized_keys a host already has.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { ConfigError, type SharedState } from 'deployr';
import { KEY_TYPES, looksLikeKeyLine, parseKeyLine, type PublicKey } from './validate.js';

/** Reads every key of `entries` (key lines, or files relative to `root`), once per run. */
export function keyLoader(entries: readonly string[], root: string): (shared: SharedState) => Promise<PublicKey[]> {
  const perRun = new WeakMap<SharedState, Promise<PublicKey[]>>();
  return (shared) => {
    let keys = perRun.get(shared);
    if (!keys) {
      keys = loadKeys(entries, root);
      perRun.set(shared, keys);
    }
    return keys;
  };
}

export async function loadKeys(entries: readonly string[], root: string): Promise<PublicKey[]> {
  const keys = new Map<string, PublicKey>();
  for (const [index, entry] of entries.entries()) {
    const found = looksLikeKeyLine(entry) ? [keyOf(entry, `authorizedKeys[${index}]`)] : await keysInFile(entry, root, index);
    for (const key of found) if (!keys.has(key.blob)) keys.set(key.blob, key);
  }
  return [...keys.values()];
}

function keyOf(line: string, where: string): PublicKey {
  const parsed = parseKeyLine(line);
  if (typeof parsed === 'string') throw new ConfigError(`deployr:bootstrap: ${where}: ${parsed}`, { hint: 'give the one-line public key, as in id_ed25519.pub' });
  return parsed;
}

async function keysInFile(entry: string, root: string, index: number): Promise<PublicKey[]> {
  const file = entry === '~' || entry.startsWith('~/') ? path.join(homedir(), entry.slice(1)) : path.resolve(root, entry);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`deployr:bootstrap: authorizedKeys[${index}]: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      hint: 'give a public key file (…/id_ed25519.pub; relative paths start at the config file) or the key line itself',
    });
  }
  if (text.includes('PRIVATE KEY-----')) {
    throw new ConfigError(`deployr:bootstrap: authorizedKeys[${index}]: ${file} is a private key`, { hint: `give its public half, ${path.basename(file)}.pub` });
  }
  const keys = text
    .split('\n')
    .map((line, at) => ({ line: line.trim(), at }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'))
    .map(({ line, at }) => keyOf(line, `authorizedKeys[${index}]: ${file} line ${at + 1}`));
  if (keys.length === 0) throw new ConfigError(`deployr:bootstrap: authorizedKeys[${index}]: ${file} holds no key`, { hint: 'give a public key file such as ~/.ssh/id_ed25519.pub' });
  return keys;
}

/** The key data of an authorized_keys line, options and all (`from="…",no-pty ssh-ed25519 AAAA…`). */
function blobOf(line: string): string | undefined {
  const words = line.trim().split(/\s+/);
  const at = words.findIndex((word) => (KEY_TYPES as readonly string[]).includes(word));
  return at >= 0 ? words[at + 1] : undefined;
}

/**
 * The authorized_keys a host should have. By default the keys missing from
 * `current` are appended and everything else is kept as it is, so other
 * people's keys and options survive; `exclusive` makes it exactly `keys`.
 */
export function mergeAuthorizedKeys(current: string, keys: readonly PublicKey[], exclusive: boolean): string {
  if (exclusive) return keys.map((key) => `${key.line}\n`).join('');
  const present = new Set(current.split('\n').flatMap((line) => (line.trim().startsWith('#') ? [] : [blobOf(line) ?? ''])));
  const missing = keys.filter((key) => !present.has(key.blob));
  if (missing.length === 0) return current;
  const base = current === '' || current.endsWith('\n') ? current : `${current}\n`;
  return base + missing.map((key) => `${key.line}\n`).join('');
}

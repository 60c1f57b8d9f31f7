/**
 * OpenSSH known_hosts parsing and host key lookup.
 *
 * Everything here is pure except `loadKnownHosts` (reads files, through a
 * cache) and `appendKnownHost` (writes one line).
 *
 * Semantics follow OpenSSH 9.x (hostfile.c / match.c):
 *  - a line is `[marker] patterns keytype base64-key [comment]`;
 *  - `patterns` is a comma-separated list of glob patterns (`*`, `?`), each
 *    optionally negated with `!`, or a hashed name `|1|base64(salt)|base64(hmac)`
 *    where hmac = HMAC-SHA1(key = salt, data = lookup name);
 *  - the lookup name is `host` for port 22 and `[host]:port` otherwise, and
 *    patterns are matched against that whole string, case-insensitively;
 *  - a negated pattern that matches excludes the whole line;
 *  - malformed lines are skipped silently.
 *
 * Deliberate differences from OpenSSH:
 *  - For port 22 we also accept entries written as `[host]:22`. OpenSSH 9.2
 *    does NOT (checked: `ssh -p 22` reports "No ED25519 host key is known" with
 *    only a `[127.0.0.1]:22` entry). Accepting it is safe: such a line can only
 *    have been written for that very endpoint.
 *  - `@cert-authority` lines are parsed but ignored for key matching: deployr
 *    (like ssh2) does not support host certificates. A host that is only
 *    covered by a `@cert-authority` line is therefore reported as 'unknown'.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, open, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: '@revoked' | '@cert-authority';
  /** Raw comma-separated patterns; a hashed one looks like `|1|salt|hash`. */
  patterns: string[];
  keyType: string;
  /** Decoded key blob (SSH wire format). */
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'trusted'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** Host known with the same key type, but a different key. */
  | { status: 'changed'; knownTypes: string[]; entries: KnownHostEntry[] }
  /** Host known, but not with this key type. */
  | { status: 'unknown-type'; knownTypes: string[] }
  | { status: 'unknown' };

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

// ---------------------------------------------------------------------------
// Key blobs
// ---------------------------------------------------------------------------

/** Read the key type string from an SSH wire-format public key blob. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) throw new Error('SSH key blob too short');
  const len = key.readUInt32BE(0);
  if (len === 0 || len > 256 || 4 + len > key.length) {
    throw new Error('SSH key blob has an invalid type length');
  }
  const type = key.toString('latin1', 4, 4 + len);
  if (!/^[\x21-\x7e]+$/.test(type)) throw new Error('SSH key blob has an invalid type string');
  return type;
}

function tryKeyTypeOf(key: Buffer): string | undefined {
  try {
    return keyTypeOf(key);
  } catch {
    return undefined;
  }
}

/**
 * Signature algorithm names (what ssh2 may report after negotiation) are not
 * key types: an `rsa-sha2-512` host key is an `ssh-rsa` key in known_hosts.
 */
function normalizeKeyType(keyType: string): string {
  if (keyType === 'rsa-sha2-256' || keyType === 'rsa-sha2-512') return 'ssh-rsa';
  return keyType;
}

/** The key type to use for a presented key: the blob is authoritative. */
function presentedKeyType(keyType: string, key: Buffer): string {
  return tryKeyTypeOf(key) ?? normalizeKeyType(keyType);
}

/** `SHA256:` + unpadded base64 of sha256(blob), exactly as `ssh-keygen -l` prints. */
export function fingerprintSha256(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

// ---------------------------------------------------------------------------
// Parsing and loading
// ---------------------------------------------------------------------------

/** Parse known_hosts text. Blank, comment and malformed lines are skipped. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const entry = parseLine(lines[i] ?? '', file, i + 1);
    if (entry) entries.push(entry);
  }
  HashedNames.attach(entries);
  return entries;
}

function parseLine(raw: string, file: string, line: number): KnownHostEntry | undefined {
  const text = raw.replace(/\r$/, '').trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const fields = text.split(/[ \t]+/);
  let marker: KnownHostEntry['marker'];
  if (fields[0]?.startsWith('@')) {
    const m = fields.shift();
    if (m === '@revoked' || m === '@cert-authority') marker = m;
    else return undefined; // unknown marker: OpenSSH skips the line
  }
  const [hostField, keyType, b64] = fields;
  if (!hostField || !keyType || !b64) return undefined;
  if (!BASE64_RE.test(b64)) return undefined;
  const key = Buffer.from(b64, 'base64');
  // The blob must carry the type named on the line (OpenSSH's sshkey_read
  // rejects a mismatch).
  if (tryKeyTypeOf(key) !== keyType) return undefined;
  const patterns = hostField.split(',').filter((p) => p !== '');
  if (patterns.length === 0) return undefined;
  const entry: KnownHostEntry = { file, line, patterns, keyType, key };
  if (marker) entry.marker = marker;
  return entry;
}

function expandTilde(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}

/**
 * Parsed known_hosts files, per path, for the process: a file is read and
 * parsed again only when it changed (its mtime, ctime, size or inode), so
 * accept-new's appends are seen by the next connection while an unchanged
 * file costs one stat. As with git's "racy" index entries, a version whose
 * mtime is less than RACY_MS old when it is read is not reused once read: a
 * same-size rewrite within one timestamp tick would not change the version.
 * Loads that find the same version while it is being read share that read.
 */
interface CachedKnownHostsFile {
  version: string;
  reusable: boolean;
  settled: boolean;
  entries: Promise<readonly KnownHostEntry[] | undefined>;
}

const RACY_MS = 2_000;
const MAX_CACHED_FILES = 64;
const fileCache = new Map<string, CachedKnownHostsFile>();

/**
 * For tests and diagnostics: files loadKnownHosts read and parsed, files it
 * reused unchanged, and HMACs computed to match hashed entries.
 */
export const knownHostsCacheStats = { parses: 0, reuses: 0, hmacs: 0 };

/** Forget every cached known_hosts file. */
export function clearKnownHostsCache(): void {
  fileCache.clear();
}

function readError(path: string, err: unknown): Error {
  return new Error(`Cannot read known_hosts file ${path}: ${(err as Error).message}`, { cause: err });
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The parsed entries of one file (shared, frozen), or undefined when it does not exist. */
async function loadKnownHostsFile(path: string): Promise<readonly KnownHostEntry[] | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if (isMissing(err)) {
      fileCache.delete(path);
      return undefined;
    }
    throw readError(path, err);
  }
  const version = `${info.mtimeMs}:${info.ctimeMs}:${info.size}:${info.ino}:${info.dev}`;
  const cached = fileCache.get(path);
  if (cached && cached.version === version && (cached.reusable || !cached.settled)) {
    knownHostsCacheStats.reuses += 1;
    return cached.entries;
  }
  const record: CachedKnownHostsFile = {
    version,
    reusable: Math.abs(Date.now() - info.mtimeMs) >= RACY_MS,
    settled: false,
    // Stat before read: the text read is at least as new as `version`, so a later change always shows.
    entries: readKnownHostsFile(path),
  };
  fileCache.delete(path); // re-insert: the Map's order is least recently loaded first
  fileCache.set(path, record);
  if (fileCache.size > MAX_CACHED_FILES) fileCache.delete(fileCache.keys().next().value as string);
  try {
    return await record.entries;
  } catch (err) {
    if (fileCache.get(path) === record) fileCache.delete(path); // errors are not cached
    throw err;
  } finally {
    record.settled = true;
  }
}

async function readKnownHostsFile(path: string): Promise<readonly KnownHostEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined; // removed between stat and read
    throw readError(path, err);
  }
  knownHostsCacheStats.parses += 1;
  const parsed = parseKnownHosts(text, path);
  for (const entry of parsed) {
    Object.freeze(entry.patterns);
    Object.freeze(entry);
  }
  return Object.freeze(parsed);
}

/**
 * Read and parse known_hosts files in order. Missing files (ENOENT, ENOTDIR)
 * are skipped; other read errors (e.g. EACCES, EISDIR) are thrown. `~` is
 * expanded to the home directory.
 *
 * Parsed files are cached (see CachedKnownHostsFile): the entries returned
 * are shared between calls and frozen; the array itself is the caller's.
 */
export async function loadKnownHosts(files: string[]): Promise<KnownHostEntry[]> {
  const loaded = await Promise.all(files.map((f) => loadKnownHostsFile(expandTilde(f))));
  const all: KnownHostEntry[] = [];
  for (const entries of loaded) if (entries) all.push(...entries);
  return all;
}

// ---------------------------------------------------------------------------
// Host matching
// ---------------------------------------------------------------------------

/**
 * The name OpenSSH looks up in known_hosts: `host` for port 22, `[host]:port`
 * otherwise. The host is lowercased, as ssh does before any lookup.
 */
export function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Names an entry may be written under for this endpoint (see file header). */
function lookupNames(host: string, port: number): string[] {
  const names = [hostLookupName(host, port)];
  if (port === 22) names.push(`[${host.toLowerCase()}]:22`);
  return names;
}

const globCache = new Map<string, RegExp>();

/** Turn an OpenSSH glob (`*`, `?`) into an anchored, case-insensitive regex. */
function globToRegExp(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    let src = '';
    for (const ch of pattern) {
      if (ch === '*') src += '.*';
      else if (ch === '?') src += '.';
      else src += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    }
    re = new RegExp(`^${src}$`, 'is');
    if (globCache.size > 1000) globCache.clear();
    globCache.set(pattern, re);
  }
  return re;
}

interface HashedPattern {
  salt: Buffer;
  hash: Buffer;
}

/** `|1|base64(salt)|base64(hmac-sha1(salt, name))`, decoded; undefined when malformed (never matches). */
function decodeHashed(hashed: string): HashedPattern | undefined {
  const parts = hashed.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return undefined;
  const [, , saltB64 = '', hashB64 = ''] = parts;
  if (!BASE64_RE.test(saltB64) || !BASE64_RE.test(hashB64)) return undefined;
  return { salt: Buffer.from(saltB64, 'base64'), hash: Buffer.from(hashB64, 'base64') };
}

function hmacMatches(pattern: HashedPattern, name: string): boolean {
  knownHostsCacheStats.hmacs += 1;
  const actual = createHmac('sha1', pattern.salt).update(name).digest();
  return pattern.hash.length === actual.length && timingSafeEqual(pattern.hash, actual);
}

/**
 * The hashed patterns of one parsed file, and which of them match a lookup
 * name. A hashed pattern can only be tested by computing an HMAC with its
 * salt, and one lookup tests every entry twice (knownKeyTypes, then
 * checkHostKey); here each (pattern, name) HMAC is computed once per parse,
 * and a connection to a host already looked up in an unchanged (cached)
 * file computes none.
 */
class HashedNames {
  private static readonly byEntry = new WeakMap<KnownHostEntry, HashedNames>();
  private static readonly MAX_NAMES = 256;

  /** Every distinct hashed pattern in the file (without `!`): decoded at the first lookup, null when malformed. */
  private readonly patterns = new Map<string, HashedPattern | null | undefined>();
  /** Lookup name → the hashed patterns that match it. */
  private readonly matches = new Map<string, Set<string>>();

  /** Group the hashed patterns of freshly parsed entries. */
  static attach(entries: KnownHostEntry[]): void {
    let group: HashedNames | undefined;
    for (const entry of entries) {
      let hashed = false;
      for (const raw of entry.patterns) {
        const pattern = raw.startsWith('!') ? raw.slice(1) : raw;
        if (!pattern.startsWith('|')) continue;
        group ??= new HashedNames();
        group.patterns.set(pattern, undefined);
        hashed = true;
      }
      if (hashed) HashedNames.byEntry.set(entry, group as HashedNames);
    }
  }

  /** Does hashed `pattern` (of `entry`) match one of `names`? */
  static test(entry: KnownHostEntry, pattern: string, names: string[]): boolean {
    const group = HashedNames.byEntry.get(entry);
    if (group?.patterns.has(pattern)) return names.some((name) => group.matching(name).has(pattern));
    const decoded = decodeHashed(pattern); // an entry built by hand, not parsed here
    return decoded !== undefined && names.some((name) => hmacMatches(decoded, name));
  }

  private matching(name: string): Set<string> {
    let found = this.matches.get(name);
    if (!found) {
      found = new Set();
      for (const [pattern, known] of this.patterns) {
        let decoded = known;
        if (decoded === undefined) {
          decoded = decodeHashed(pattern) ?? null;
          this.patterns.set(pattern, decoded);
        }
        if (decoded && hmacMatches(decoded, name)) found.add(pattern);
      }
      if (this.matches.size >= HashedNames.MAX_NAMES) this.matches.clear();
      this.matches.set(name, found);
    }
    return found;
  }
}

/** 1 = positive match, -1 = a negated pattern matched, 0 = no match. */
function matchPatterns(entry: KnownHostEntry, names: string[]): -1 | 0 | 1 {
  let positive = false;
  for (const raw of entry.patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const hit = pattern.startsWith('|')
      ? HashedNames.test(entry, pattern, names)
      : names.some((n) => globToRegExp(pattern).test(n));
    if (!hit) continue;
    if (negated) return -1;
    positive = true;
  }
  return positive ? 1 : 0;
}

/** Does this entry's host field cover `host` on `port`? (Markers are not considered.) */
export function entryMatchesHost(entry: KnownHostEntry, host: string, port: number): boolean {
  return matchPatterns(entry, lookupNames(host, port)) === 1;
}

// ---------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Key types of the plain (non-revoked, non-CA) entries that match this host. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  return unique(
    entries.filter((e) => e.marker === undefined && entryMatchesHost(e, host, port)).map((e) => e.keyType),
  );
}

/**
 * Decide what to do with the key a server presented.
 *
 * Order (as OpenSSH): a matching `@revoked` line with this key wins over
 * everything; then an exact match is trusted; then a plain entry of the same
 * key type means the key changed; then other key types mean 'unknown-type'.
 * `keyType` may be a signature algorithm name (`rsa-sha2-512`): the type
 * inside the key blob is what counts.
 */
export function checkHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  keyType: string,
  key: Buffer,
): HostKeyVerdict {
  const type = presentedKeyType(keyType, key);
  const matching = entries.filter((e) => entryMatchesHost(e, host, port));

  const revoked = matching.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };

  const plain = matching.filter((e) => e.marker === undefined);
  const trusted = plain.find((e) => e.keyType === type && e.key.equals(key));
  if (trusted) return { status: 'trusted', entry: trusted };

  const knownTypes = unique(plain.map((e) => e.keyType));
  const sameType = plain.filter((e) => e.keyType === type);
  if (sameType.length > 0) return { status: 'changed', knownTypes, entries: sameType };
  if (plain.length > 0) return { status: 'unknown-type', knownTypes };
  return { status: 'unknown' };
}

const HOST_KEY_ALGORITHM_ORDER: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms ssh2 1.17 accepts in `algorithms.serverHostKey`
 * (lib/protocol/constants.js SUPPORTED_SERVER_HOST_KEY; ssh-ed25519 needs a
 * Node with Ed25519, which Node 20 has). ssh2 throws "Unsupported algorithm"
 * for anything else, e.g. `sk-ssh-ed25519@openssh.com` or certificate types.
 */
export const SSH2_HOST_KEY_ALGORITHMS: readonly string[] = [...HOST_KEY_ALGORITHM_ORDER, 'ssh-dss'];

/**
 * Host key algorithms to offer (ssh2 `algorithms.serverHostKey`) so that the
 * server presents a key type we already know, as OpenSSH does. Without this an
 * RSA-only known_hosts entry looks like a changed key when the server prefers
 * ed25519.
 *
 * Returns [] for [] — then do not restrict (use ssh2's defaults). Types we do
 * not map (e.g. `ssh-dss`, `sk-*@openssh.com`, certificates) are passed
 * through after the known ones; ssh2 throws on names it does not support, so
 * pass `supported` (e.g. SSH2_HOST_KEY_ALGORITHMS) to filter them out.
 */
export function hostKeyAlgorithmsFor(keyTypes: string[], supported?: readonly string[]): string[] {
  const wanted = new Set<string>();
  const others: string[] = [];
  for (const raw of keyTypes) {
    const t = normalizeKeyType(raw);
    if (t === 'ssh-rsa') {
      wanted.add('rsa-sha2-512').add('rsa-sha2-256').add('ssh-rsa');
    } else if (HOST_KEY_ALGORITHM_ORDER.includes(t)) {
      wanted.add(t);
    } else if (!others.includes(t)) {
      others.push(t);
    }
  }
  const result = [...HOST_KEY_ALGORITHM_ORDER.filter((a) => wanted.has(a)), ...others];
  return supported ? result.filter((a) => supported.includes(a)) : result;
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/** Hash a lookup name the way `ssh-keygen -H` / `HashKnownHosts yes` do. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${mac}`;
}

/**
 * A known_hosts line (without newline) for this endpoint. With `hash: true`
 * the name is hashed as `HashKnownHosts yes` does. The key type is taken from
 * the blob when possible (so `rsa-sha2-512` becomes `ssh-rsa`).
 */
export function formatKnownHostsLine(
  host: string,
  port: number,
  keyType: string,
  key: Buffer,
  opts?: { hash?: boolean },
): string {
  const name = hostLookupName(host, port);
  const hostField = opts?.hash ? hashHostName(name) : name;
  return `${hostField} ${presentedKeyType(keyType, key)} ${key.toString('base64')}`;
}

/**
 * Append one line to a known_hosts file: creates the directory (0700) and the
 * file (0600) when missing, adds a newline first if the file does not end
 * with one. `~` is expanded.
 */
export async function appendKnownHost(file: string, line: string): Promise<void> {
  const path = expandTilde(file);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) prefix = '\n';
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await appendFile(path, `${prefix}${line.replace(/[\r\n]+$/, '')}\n`, { mode: 0o600 });
}

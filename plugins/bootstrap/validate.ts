// What bootstrap accepts as a user or group name, a sudoers rule and an SSH
// public key. Every value also goes through cmd`…` quoting; these checks are
// what keeps a typo from becoming a broken account, sudoers file or key file.

/** POSIX portable user and group names as useradd and busybox adduser accept them by default. */
const POSIX_NAME = /^[a-z_][a-z0-9_-]*$/;
const MAX_NAME = 32;

/** undefined when `name` is a usable user or group name, else what is wrong. */
export function nameProblem(name: string): string | undefined {
  if (POSIX_NAME.test(name) && name.length <= MAX_NAME) return undefined;
  return `${JSON.stringify(name)} is not a POSIX user or group name: lowercase letters, digits, _ and -, starting with a letter or _, at most ${MAX_NAME} characters`;
}

/**
 * undefined when `rule` is one sudoers line. A newline would smuggle a second
 * rule in, and a trailing backslash would join the next line to this one.
 */
export function sudoersRuleProblem(rule: string): string | undefined {
  if (/[\n\r\0]/.test(rule)) return 'a sudoers rule is one line: no newlines';
  if (rule.trim() === '') return 'a sudoers rule cannot be empty';
  if (rule.trimEnd().endsWith('\\')) return 'a sudoers rule cannot end with \\ (it would continue on the next line)';
  return undefined;
}

/** A name sudo reads in /etc/sudoers.d: it skips names with a '.' or ending in '~'. */
export function sudoersFileProblem(name: string): string | undefined {
  return /^[A-Za-z0-9_-]+$/.test(name) ? undefined : `${JSON.stringify(name)} cannot name a file in /etc/sudoers.d: letters, digits, _ and - only (sudo skips names with a '.')`;
}

export const KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;

/** An authorizedKeys entry that is a key itself, not the path of a .pub file. */
export function looksLikeKeyLine(entry: string): boolean {
  return /^(ssh-|ecdsa-|sk-)\S*\s/.test(entry.trim());
}

export interface PublicKey {
  readonly type: string;
  /** The base64 key data: what identifies the key, whatever its comment. */
  readonly blob: string;
  /** The line as written to authorized_keys: type, data and comment, single-spaced. */
  readonly line: string;
}

/**
 * Parses one public key line (`ssh-ed25519 AAAA… alice@laptop`), or says what
 * is wrong with it. The key data must decode and name the same type as the
 * line does, which catches truncated and mis-pasted keys.
 */
export function parseKeyLine(text: string): PublicKey | string {
  if (/[\n\r\0]/.test(text)) return 'an SSH public key is one line';
  const [type = '', blob = '', ...comment] = text.trim().split(/\s+/);
  if (!(KEY_TYPES as readonly string[]).includes(type)) {
    return `${JSON.stringify(type.slice(0, 40))} is not an SSH public key type (${KEY_TYPES.slice(0, 3).join(', ')}, …)`;
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return `the ${type} key data is missing or not base64`;
  if (!holdsKey(Buffer.from(blob, 'base64'), type)) return `the key data does not hold a whole ${type} key (truncated or mis-pasted?)`;
  return { type, blob, line: [type, blob, ...comment].join(' ') };
}

/** Length-prefixed fields after the type name, per key type (RFC 4253, 5656, 8709; OpenSSH's PROTOCOL.u2f). */
const KEY_FIELDS: Record<(typeof KEY_TYPES)[number], number> = {
  'ssh-ed25519': 1,
  'ssh-rsa': 2,
  'ecdsa-sha2-nistp256': 2,
  'ecdsa-sha2-nistp384': 2,
  'ecdsa-sha2-nistp521': 2,
  'sk-ssh-ed25519@openssh.com': 2,
  'sk-ecdsa-sha2-nistp256@openssh.com': 3,
};

/** The wire form names `type` and then holds exactly its fields, nothing cut off and nothing after. */
function holdsKey(bytes: Buffer, type: string): boolean {
  const fields: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 4 > bytes.length) return false;
    const length = bytes.readUInt32BE(at);
    if (at + 4 + length > bytes.length) return false;
    fields.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  const [name, ...rest] = fields;
  if (name?.toString('latin1') !== type || rest.length !== KEY_FIELDS[type as keyof typeof KEY_FIELDS]) return false;
  return type.includes('ed25519') ? rest[0]?.length === 32 : true;
}

/** undefined for a valid key line, else what is wrong. */
export function keyLineProblem(text: string): string | undefined {
  const parsed = parseKeyLine(text);
  return typeof parsed === 'string' ? parsed : undefined;
}

/** An absolute path without whitespace: a login shell. */
export function shellProblem(shell: string): string | undefined {
  return /^\/\S+$/.test(shell) ? undefined : `${JSON.stringify(shell)} is not an absolute path to a shell, e.g. /bin/bash`;
}

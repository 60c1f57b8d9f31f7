import { execFile } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  checkHostKey,
  clearKnownHostsCache,
  entryMatchesHost,
  hashHostName,
  fingerprintSha256,
  formatKnownHostsLine,
  hostKeyAlgorithmsFor,
  hostLookupName,
  keyTypeOf,
  knownHostsCacheStats,
  knownKeyTypes,
  loadKnownHosts,
  parseKnownHosts,
  SSH2_HOST_KEY_ALGORITHMS,
  type KnownHostEntry,
} from '../../core/connection/ssh/known-hosts.js';

const run = promisify(execFile);

interface PubKey {
  name: string;
  pubFile: string;
  type: string;
  b64: string;
  blob: Buffer;
  /** "type base64" as it appears in known_hosts */
  text: string;
}

let dir: string;
const keys: Record<'ed1' | 'ed2' | 'ed3' | 'rsa1' | 'rsa2', PubKey> = {} as never;

async function keygen(name: string, type: 'ed25519' | 'rsa'): Promise<PubKey> {
  const file = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', file]);
  const [t, b64] = (await readFile(`${file}.pub`, 'utf8')).trim().split(' ');
  if (!t || !b64) throw new Error('bad pub key');
  return { name, pubFile: `${file}.pub`, type: t, b64, blob: Buffer.from(b64, 'base64'), text: `${t} ${b64}` };
}

/** Exit status of the real `ssh-keygen -F name -f file`: does OpenSSH find the name? */
async function sshKeygenFinds(name: string, file: string): Promise<boolean> {
  try {
    await run('ssh-keygen', ['-F', name, '-f', file]);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 1) return false;
    throw err;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deployr-kh-'));
  const [ed1, ed2, ed3, rsa1, rsa2] = await Promise.all([
    keygen('ed1', 'ed25519'),
    keygen('ed2', 'ed25519'),
    keygen('ed3', 'ed25519'),
    keygen('rsa1', 'rsa'),
    keygen('rsa2', 'rsa'),
  ]);
  Object.assign(keys, { ed1, ed2, ed3, rsa1, rsa2 });
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function knownHostsText(): string {
  const { ed1, ed2, ed3, rsa1 } = keys;
  return [
    '# a comment',
    '',
    `plain.example ${ed1.text} comment words here`,
    `[ported.example]:2222 ${ed1.text}`,
    `*.wild.example ${ed1.text}`,
    `[*.pw.example]:2200 ${ed1.text}`,
    `h?.q.example ${ed1.text}`,
    `list1.example,LIST2.Example,!bad.list.example,*.list.example ${ed1.text}`,
    `rsaonly.example ${rsa1.text}`,
    `two.example ${ed1.text}`,
    `two.example ${rsa1.text}`,
    `revoked.example ${ed1.text}`,
    `@revoked revoked.example ${ed1.text}`,
    `@revoked * ${ed3.text}`,
    `@cert-authority *.ca.example ${ed2.text}`,
    `[legacy22.example]:22 ${ed1.text}`,
    `a.b.example ${ed1.text}`,
    // malformed lines: skipped silently
    `@bogus-marker bogus.example ${ed1.text}`,
    `missingkey.example ssh-ed25519`,
    `badb64.example ssh-ed25519 !!!notbase64!!!`,
    `typemismatch.example ssh-rsa ${ed1.b64}`,
    `\t  spaced.example\t${ed2.text}  `,
  ].join('\n');
}

describe('parseKnownHosts', () => {
  it('parses entries with line numbers, markers and patterns, skipping junk', () => {
    const entries = parseKnownHosts(knownHostsText(), '/x/known_hosts');
    const hosts = entries.map((e) => e.patterns.join(','));
    expect(hosts).not.toContain('bogus.example');
    expect(hosts).not.toContain('missingkey.example');
    expect(hosts).not.toContain('badb64.example');
    expect(hosts).not.toContain('typemismatch.example');
    expect(hosts).toContain('spaced.example');
    expect(entries).toHaveLength(16);

    const plain = entries.find((e) => e.patterns[0] === 'plain.example')!;
    expect(plain).toMatchObject({ file: '/x/known_hosts', line: 3, keyType: 'ssh-ed25519' });
    expect(plain.marker).toBeUndefined();
    expect(plain.key.equals(keys.ed1.blob)).toBe(true);

    const list = entries.find((e) => e.patterns[0] === 'list1.example')!;
    expect(list.patterns).toEqual(['list1.example', 'LIST2.Example', '!bad.list.example', '*.list.example']);

    expect(entries.filter((e) => e.marker === '@revoked')).toHaveLength(2);
    expect(entries.filter((e) => e.marker === '@cert-authority')).toHaveLength(1);
  });

  it('handles CRLF line endings', () => {
    const entries = parseKnownHosts(`a.example ${keys.ed1.text}\r\nb.example ${keys.rsa1.text}\r\n`, 'f');
    expect(entries.map((e) => [e.patterns[0], e.keyType, e.line])).toEqual([
      ['a.example', 'ssh-ed25519', 1],
      ['b.example', 'ssh-rsa', 2],
    ]);
  });
});

describe('host matching', () => {
  it('hostLookupName', () => {
    expect(hostLookupName('Example.COM', 22)).toBe('example.com');
    expect(hostLookupName('example.com', 2222)).toBe('[example.com]:2222');
    expect(hostLookupName('::1', 2222)).toBe('[::1]:2222');
  });

  it('agrees with the real `ssh-keygen -F` on plain, ported, wildcard, negated and list patterns', async () => {
    const { ed1 } = keys;
    const file = join(dir, 'oracle_known_hosts');
    const text = [
      `plain.example ${ed1.text}`,
      `[ported.example]:2222 ${ed1.text}`,
      `*.wild.example ${ed1.text}`,
      `[*.pw.example]:2200 ${ed1.text}`,
      `h?.q.example ${ed1.text}`,
      `list1.example,LIST2.Example,!bad.list.example,*.list.example ${ed1.text}`,
      `a.b.example ${ed1.text}`,
      `[re+gex(.example]:2201 ${ed1.text}`,
    ].join('\n');
    await writeFile(file, text + '\n');
    const entries = parseKnownHosts(text, file);
    const cases: Array<[string, number]> = [
      ['plain.example', 22],
      ['PLAIN.example', 22],
      ['plain.example', 2222],
      ['plainXexample', 22],
      ['ported.example', 2222],
      ['ported.example', 22],
      ['ported.example', 2223],
      ['x.wild.example', 22],
      ['wild.example', 22],
      ['x.wild.example', 2200],
      ['x.pw.example', 2200],
      ['x.pw.example', 22],
      ['x.pw.example', 2201],
      ['h1.q.example', 22],
      ['h12.q.example', 22],
      ['list1.example', 22],
      ['list2.example', 22],
      ['other.list.example', 22],
      ['bad.list.example', 22],
      ['list1.example', 2222],
      ['aXb.example', 22],
      ['re+gex(.example', 2201],
      ['ree.example', 2201],
    ];
    const mismatches: string[] = [];
    for (const [host, port] of cases) {
      const ours = entries.some((e) => entryMatchesHost(e, host, port));
      const theirs = await sshKeygenFinds(hostLookupName(host, port), file);
      if (ours !== theirs) mismatches.push(`${host}:${port} ours=${ours} ssh-keygen=${theirs}`);
    }
    expect(mismatches).toEqual([]);
    // sanity: the oracle did find some and reject some
    expect(entries.some((e) => entryMatchesHost(e, 'x.pw.example', 2200))).toBe(true);
    expect(entries.some((e) => entryMatchesHost(e, 'bad.list.example', 22))).toBe(false);
  });

  it('negation excludes the entry even when another pattern matches', () => {
    const [e] = parseKnownHosts(`*.example,!secret.example ${keys.ed1.text}`, 'f');
    expect(entryMatchesHost(e!, 'open.example', 22)).toBe(true);
    expect(entryMatchesHost(e!, 'secret.example', 22)).toBe(false);
    expect(entryMatchesHost(e!, 'SECRET.example', 22)).toBe(false);
  });

  it('accepts [host]:22 entries for port 22 (deployr extension; OpenSSH 9.2 does not)', () => {
    const [e] = parseKnownHosts(`[legacy22.example]:22 ${keys.ed1.text}`, 'f');
    expect(entryMatchesHost(e!, 'legacy22.example', 22)).toBe(true);
    expect(entryMatchesHost(e!, 'legacy22.example', 2222)).toBe(false);
  });
});

describe('checkHostKey', () => {
  let entries: KnownHostEntry[];
  beforeAll(() => {
    entries = parseKnownHosts(knownHostsText(), 'kh');
  });
  const verdict = (host: string, port: number, k: PubKey) => checkHostKey(entries, host, port, k.type, k.blob);

  it('trusted for plain, ported, wildcard, list entries', () => {
    for (const [host, port] of [
      ['plain.example', 22],
      ['Plain.Example', 22],
      ['ported.example', 2222],
      ['deep.x.wild.example', 22],
      ['a.pw.example', 2200],
      ['list2.example', 22],
      ['z.list.example', 22],
      ['legacy22.example', 22],
    ] as const) {
      const v = verdict(host, port, keys.ed1);
      expect(v.status, `${host}:${port}`).toBe('trusted');
      if (v.status === 'trusted') expect(v.entry.key.equals(keys.ed1.blob)).toBe(true);
    }
  });

  it('unknown when no pattern applies (wrong port, negated, bare vs bracketed)', () => {
    expect(verdict('ported.example', 22, keys.ed1).status).toBe('unknown');
    expect(verdict('plain.example', 2222, keys.ed1).status).toBe('unknown');
    expect(verdict('bad.list.example', 22, keys.ed1).status).toBe('unknown');
    expect(verdict('a.pw.example', 22, keys.ed1).status).toBe('unknown');
    expect(verdict('nowhere.example', 22, keys.ed1)).toEqual({ status: 'unknown' });
  });

  it('changed when the same key type is known with another key', () => {
    const v = verdict('plain.example', 22, keys.ed2);
    expect(v.status).toBe('changed');
    if (v.status !== 'changed') return;
    expect(v.knownTypes).toEqual(['ssh-ed25519']);
    expect(v.entries.map((e) => e.line)).toEqual([3]);

    const r = verdict('rsaonly.example', 22, keys.rsa2);
    expect(r.status).toBe('changed');
  });

  it('unknown-type when the host is known only with other key types', () => {
    const v = verdict('rsaonly.example', 22, keys.ed1);
    expect(v).toEqual({ status: 'unknown-type', knownTypes: ['ssh-rsa'] });
  });

  it('uses the key blob type, so rsa-sha2-512 matches an ssh-rsa entry', () => {
    expect(checkHostKey(entries, 'rsaonly.example', 22, 'rsa-sha2-512', keys.rsa1.blob).status).toBe('trusted');
    const two = checkHostKey(entries, 'two.example', 22, 'rsa-sha2-256', keys.rsa1.blob);
    expect(two.status).toBe('trusted');
    const twoEd = verdict('two.example', 22, keys.ed2);
    expect(twoEd.status).toBe('changed');
    if (twoEd.status === 'changed') expect(twoEd.knownTypes).toEqual(['ssh-ed25519', 'ssh-rsa']);
  });

  it('revoked beats a trusting entry, and @revoked * applies to every host', () => {
    const v = verdict('revoked.example', 22, keys.ed1);
    expect(v.status).toBe('revoked');
    if (v.status === 'revoked') expect(v.entry.marker).toBe('@revoked');
    expect(verdict('anything.example', 2222, keys.ed3).status).toBe('revoked');
    expect(verdict('plain.example', 22, keys.ed3).status).toBe('revoked');
    // a revoked key for one host does not affect others
    expect(verdict('plain.example', 22, keys.ed1).status).toBe('trusted');
  });

  it('ignores @cert-authority lines (host certificates are not supported)', () => {
    expect(verdict('web.ca.example', 22, keys.ed2)).toEqual({ status: 'unknown' });
    expect(knownKeyTypes(entries, 'web.ca.example', 22)).toEqual([]);
  });

  it('knownKeyTypes', () => {
    expect(knownKeyTypes(entries, 'two.example', 22)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(knownKeyTypes(entries, 'rsaonly.example', 22)).toEqual(['ssh-rsa']);
    expect(knownKeyTypes(entries, 'nowhere.example', 22)).toEqual([]);
    // revoked.example has a plain ed25519 line (and a @revoked one, not counted twice)
    expect(knownKeyTypes(entries, 'revoked.example', 22)).toEqual(['ssh-ed25519']);
  });
});

describe('hashed entries (real ssh-keygen -H)', () => {
  it('matches hashed names for port 22 and [host]:port', async () => {
    const file = join(dir, 'hashed_known_hosts');
    await writeFile(
      file,
      [`hashed.example ${keys.ed1.text}`, `[hashed.example]:2222 ${keys.rsa1.text}`, `other.example ${keys.ed2.text}`].join(
        '\n',
      ) + '\n',
    );
    await run('ssh-keygen', ['-H', '-f', file]);
    const [entry] = await loadKnownHosts([file]);
    const entries = await loadKnownHosts([file, join(dir, 'does-not-exist')]);
    expect(entries).toHaveLength(3);
    for (const e of entries) {
      expect(e.patterns).toHaveLength(1);
      expect(e.patterns[0]).toMatch(/^\|1\|[A-Za-z0-9+/]+=*\|[A-Za-z0-9+/]+=*$/);
    }
    expect(entry!.file).toBe(file);

    expect(checkHostKey(entries, 'hashed.example', 22, 'ssh-ed25519', keys.ed1.blob).status).toBe('trusted');
    expect(checkHostKey(entries, 'HASHED.example', 22, 'ssh-ed25519', keys.ed1.blob).status).toBe('trusted');
    expect(checkHostKey(entries, 'hashed.example', 2222, 'ssh-rsa', keys.rsa1.blob).status).toBe('trusted');
    expect(checkHostKey(entries, 'hashed.example', 22, 'ssh-ed25519', keys.ed2.blob).status).toBe('changed');
    expect(checkHostKey(entries, 'hashed.example', 2222, 'ssh-ed25519', keys.ed1.blob)).toEqual({
      status: 'unknown-type',
      knownTypes: ['ssh-rsa'],
    });
    expect(checkHostKey(entries, 'hashed.example', 2223, 'ssh-rsa', keys.rsa1.blob).status).toBe('unknown');
    expect(checkHostKey(entries, 'hashed.exampl', 22, 'ssh-ed25519', keys.ed1.blob).status).toBe('unknown');
  });
});

describe('key helpers', () => {
  it('fingerprintSha256 equals what ssh-keygen -lf prints', async () => {
    for (const k of [keys.ed1, keys.rsa1]) {
      const { stdout } = await run('ssh-keygen', ['-lf', k.pubFile]);
      const printed = stdout.trim().split(/\s+/)[1];
      expect(printed).toMatch(/^SHA256:/);
      expect(fingerprintSha256(k.blob)).toBe(printed);
    }
  });

  it('keyTypeOf reads the type from the blob', () => {
    expect(keyTypeOf(keys.ed1.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(keys.rsa1.blob)).toBe('ssh-rsa');
    expect(() => keyTypeOf(Buffer.from([0, 0]))).toThrow();
    expect(() => keyTypeOf(Buffer.from([0, 0, 0, 50, 1]))).toThrow();
  });

  it('SSH2_HOST_KEY_ALGORITHMS is accepted by ssh2, which rejects unmapped types', () => {
    const tryConnect = (serverHostKey: string[]): void => {
      const c = new ssh2.Client();
      c.on('error', () => {});
      try {
        // port 1 on loopback: refused asynchronously; algorithm validation is synchronous
        c.connect({ host: '127.0.0.1', port: 1, username: 'x', algorithms: { serverHostKey: serverHostKey as never } });
      } finally {
        c.end();
      }
    };
    expect(() => tryConnect([...SSH2_HOST_KEY_ALGORITHMS])).not.toThrow();
    expect(() => tryConnect(['sk-ssh-ed25519@openssh.com'])).toThrow(/Unsupported algorithm/);
  });

  it('hostKeyAlgorithmsFor orders ed25519, ecdsa, rsa and maps ssh-rsa to its signature algorithms', () => {
    expect(hostKeyAlgorithmsFor(['ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithmsFor(['ssh-rsa', 'ecdsa-sha2-nistp384', 'ssh-ed25519'])).toEqual([
      'ssh-ed25519',
      'ecdsa-sha2-nistp384',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
    expect(hostKeyAlgorithmsFor(['ssh-dss', 'ssh-ed25519', 'ssh-ed25519'])).toEqual(['ssh-ed25519', 'ssh-dss']);
    expect(hostKeyAlgorithmsFor(['ssh-dss', 'ssh-ed25519'], ['ssh-ed25519', 'ssh-rsa'])).toEqual(['ssh-ed25519']);
    expect(hostKeyAlgorithmsFor([])).toEqual([]);
    expect(
      hostKeyAlgorithmsFor(['sk-ssh-ed25519@openssh.com', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-dss'], SSH2_HOST_KEY_ALGORITHMS),
    ).toEqual(['ssh-dss']);
  });
});

describe('formatKnownHostsLine / appendKnownHost', () => {
  it('plain lines', () => {
    expect(formatKnownHostsLine('Web.Example', 22, 'ssh-ed25519', keys.ed1.blob)).toBe(`web.example ${keys.ed1.text}`);
    expect(formatKnownHostsLine('web.example', 2222, 'rsa-sha2-512', keys.rsa1.blob)).toBe(
      `[web.example]:2222 ${keys.rsa1.text}`,
    );
  });

  it('hashed lines are found by the real ssh-keygen -F and by us', async () => {
    const file = join(dir, 'sub', 'dir', 'fmt_known_hosts');
    const l1 = formatKnownHostsLine('Fmt.Example', 22, 'ssh-ed25519', keys.ed1.blob, { hash: true });
    const l2 = formatKnownHostsLine('fmt.example', 2222, 'ssh-rsa', keys.rsa1.blob, { hash: true });
    expect(l1).toMatch(/^\|1\|/);
    expect(l1).not.toContain('fmt.example');
    await appendKnownHost(file, l1);
    await appendKnownHost(file, l2);

    expect(await sshKeygenFinds('fmt.example', file)).toBe(true);
    expect(await sshKeygenFinds('[fmt.example]:2222', file)).toBe(true);
    expect(await sshKeygenFinds('[fmt.example]:2223', file)).toBe(false);
    expect(await sshKeygenFinds('other.example', file)).toBe(false);
    const { stdout } = await run('ssh-keygen', ['-F', '[fmt.example]:2222', '-f', file]);
    expect(stdout).toContain(keys.rsa1.b64);

    const entries = await loadKnownHosts([file]);
    expect(entries.map((e) => e.line)).toEqual([1, 2]);
    expect(checkHostKey(entries, 'fmt.example', 22, 'ssh-ed25519', keys.ed1.blob).status).toBe('trusted');
    expect(checkHostKey(entries, 'fmt.example', 2222, 'ssh-rsa', keys.rsa1.blob).status).toBe('trusted');
  });

  it('appendKnownHost creates the file 0600 and repairs a missing trailing newline', async () => {
    const file = join(dir, 'new', 'known_hosts');
    await appendKnownHost(file, `a.example ${keys.ed1.text}\n`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    await writeFile(file, `a.example ${keys.ed1.text}\nb.example ${keys.ed2.text}`); // no final newline
    await appendKnownHost(file, `c.example ${keys.rsa1.text}`);
    const text = await readFile(file, 'utf8');
    expect(text).toBe(`a.example ${keys.ed1.text}\nb.example ${keys.ed2.text}\nc.example ${keys.rsa1.text}\n`);
    expect(parseKnownHosts(text, file)).toHaveLength(3);
  });

  it('loadKnownHosts expands ~ and skips missing files', async () => {
    const oldHome = process.env.HOME;
    process.env.HOME = dir;
    try {
      await writeFile(join(dir, 'tilde_kh'), `t.example ${keys.ed1.text}\n`);
      const entries = await loadKnownHosts(['~/tilde_kh', '~/missing_kh', join(dir, 'nope', 'x')]);
      expect(entries).toHaveLength(1);
      expect(entries[0]!.file).toBe(join(dir, 'tilde_kh'));
    } finally {
      process.env.HOME = oldHome;
    }
  });
});

describe('loadKnownHosts cache', () => {
  /** Sets the file's mtime a minute back: a file not written just now (see RACY_MS in known-hosts.ts). */
  const age = (file: string) => utimes(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const counts = () => ({ ...knownHostsCacheStats });
  const since = (before: typeof knownHostsCacheStats) => ({
    parses: knownHostsCacheStats.parses - before.parses,
    reuses: knownHostsCacheStats.reuses - before.reuses,
  });
  const hmacsSince = (before: typeof knownHostsCacheStats) => knownHostsCacheStats.hmacs - before.hmacs;

  it('reads and parses an unchanged file once, and again after accept-new appends a line', async () => {
    clearKnownHostsCache();
    const file = join(dir, 'cached_known_hosts');
    await writeFile(file, `${hashHostName('a.example')} ${keys.ed1.text}\n`);
    await age(file);
    let before = counts();
    const first = await loadKnownHosts([file]);
    const second = await loadKnownHosts([file]);
    const third = await loadKnownHosts([file]);
    expect(since(before)).toEqual({ parses: 1, reuses: 2 });
    expect(second[0]).toBe(first[0]); // the same parsed entry, not read again
    expect(third).not.toBe(second); // ...but each caller gets its own array
    expect(Object.isFrozen(first[0])).toBe(true); // shared entries cannot be changed behind other callers' backs

    // accept-new appends: the very next load sees the new key.
    await appendKnownHost(file, formatKnownHostsLine('b.example', 2222, 'ssh-ed25519', keys.ed2.blob, { hash: true }));
    before = counts();
    const appended = await loadKnownHosts([file]);
    expect(since(before)).toEqual({ parses: 1, reuses: 0 });
    expect(appended).toHaveLength(2);
    expect(checkHostKey(appended, 'b.example', 2222, 'ssh-ed25519', keys.ed2.blob).status).toBe('trusted');

    // An appended line (here without a trailing newline, as an editor may leave it) is seen too.
    await appendFile(file, `c.example ${keys.ed3.text}`);
    expect(checkHostKey(await loadKnownHosts([file]), 'c.example', 22, 'ssh-ed25519', keys.ed3.blob).status).toBe('trusted');
  });

  it('a file rewritten at once with the same size is read again (recently written versions are not reused)', async () => {
    clearKnownHostsCache();
    const file = join(dir, 'racy_known_hosts');
    await writeFile(file, `r.example ${keys.ed1.text}\n`);
    expect(checkHostKey(await loadKnownHosts([file]), 'r.example', 22, 'ssh-ed25519', keys.ed1.blob).status).toBe('trusted');
    await writeFile(file, `r.example ${keys.ed2.text}\n`); // same length, same inode, maybe the same mtime tick
    expect(checkHostKey(await loadKnownHosts([file]), 'r.example', 22, 'ssh-ed25519', keys.ed2.blob).status).toBe('trusted');
  });

  it('concurrent loads share one read; a file that disappears is skipped, and read again when it is back', async () => {
    clearKnownHostsCache();
    const file = join(dir, 'shared_known_hosts');
    await writeFile(file, `s.example ${keys.ed1.text}\n`);
    const before = counts();
    const all = await Promise.all(Array.from({ length: 6 }, () => loadKnownHosts([file])));
    expect(since(before).parses).toBe(1);
    expect(all.every((entries) => entries[0] === all[0]![0])).toBe(true);

    await rm(file);
    expect(await loadKnownHosts([file])).toEqual([]);
    await writeFile(file, `s.example ${keys.ed2.text}\n`);
    expect(checkHostKey(await loadKnownHosts([file]), 's.example', 22, 'ssh-ed25519', keys.ed2.blob).status).toBe('trusted');
  });

  it('unreadable files still throw, and are not cached', async () => {
    clearKnownHostsCache();
    await expect(loadKnownHosts([dir])).rejects.toThrow(/Cannot read known_hosts file .*EISDIR/);
    await expect(loadKnownHosts([dir])).rejects.toThrow(/EISDIR/);
  });

  it('hashed entries: lookups agree with a fresh parse; each (entry, name) HMAC is computed once per parse', async () => {
    clearKnownHostsCache();
    const file = join(dir, 'many_hashed_known_hosts');
    const lines = Array.from({ length: 300 }, (_, i) => `${hashHostName(`host-${i}.example`)} ${keys.ed1.text}`);
    lines.push(`${hashHostName('[target.example]:2222')} ${keys.ed2.text}`, `!${hashHostName('host-7.example')},*.example ${keys.ed3.text}`);
    await writeFile(file, lines.join('\n') + '\n');
    await age(file);
    const fresh = parseKnownHosts(lines.join('\n'), file);
    const hashedPatterns = 302;
    for (let round = 0; round < 2; round += 1) {
      const before = counts();
      const cached = await loadKnownHosts([file]);
      // One connection's lookup: knownKeyTypes, then checkHostKey. Port 22 tests two names (host, [host]:22).
      knownKeyTypes(cached, 'host-9.example', 22);
      checkHostKey(cached, 'host-9.example', 22, keys.ed1.type, keys.ed1.blob);
      expect(hmacsSince(before)).toBe(round === 0 ? 2 * hashedPatterns : 0); // before: 4 × 302, every connection
      for (const [host, port] of [['host-7.example', 22], ['host-8.example', 22], ['target.example', 2222], ['target.example', 22], ['x.example', 22]] as const) {
        expect(knownKeyTypes(cached, host, port), `${host}:${port}`).toEqual(knownKeyTypes(fresh, host, port));
        for (const key of [keys.ed1, keys.ed2, keys.ed3]) {
          expect(checkHostKey(cached, host, port, key.type, key.blob), `${host}:${port}`).toEqual(checkHostKey(fresh, host, port, key.type, key.blob));
        }
      }
    }
    // host-7 is excluded by its negated hashed pattern; host-8 is covered by both lines.
    expect(knownKeyTypes(fresh, 'host-7.example', 22)).toEqual(['ssh-ed25519']);
    expect(checkHostKey(fresh, 'host-7.example', 22, 'ssh-ed25519', keys.ed3.blob).status).toBe('changed');
    expect(checkHostKey(fresh, 'host-8.example', 22, 'ssh-ed25519', keys.ed3.blob).status).toBe('trusted');
    // An entry built by hand (never parsed here) still matches by its hashed pattern.
    const byHand: KnownHostEntry = { file: 'x', line: 1, patterns: [hashHostName('hand.example')], keyType: 'ssh-ed25519', key: keys.ed1.blob };
    expect(entryMatchesHost(byHand, 'hand.example', 22)).toBe(true);
    expect(entryMatchesHost(byHand, 'other.example', 22)).toBe(false);
  });
});

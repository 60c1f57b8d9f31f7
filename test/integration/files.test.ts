// Moving files over real SSH: put/get (SFTP on the same connection), putDir
// (tar stream into `tar -x`), the text-file helpers, and their errors.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, TransferError, cmd, type Host } from '../../core/index.js';
import { hostShell, type FleetState } from '../fleet/fleet.js';
import { useFleet } from '../fleet/use-fleet.js';
import { fleetHosts } from './fleet-targets.js';

const tag = randomBytes(4).toString('hex');
const work = `/srv/files-test-${tag}`;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const HOSTILE_NAMES = ['name with spaces.txt', `it's "quoted".txt`, 'ünïcødé ✓ 日本.txt', '-leading-dash.txt', '$(touch pwned) `x`.txt'];

let fleet: FleetState;
let targets: ReturnType<typeof fleetHosts>;
let h1: Host;
let local: string;

async function remoteMode(h: Host, file: string): Promise<string> {
  return (await h.exec(cmd`stat -c %a -- ${file}`)).stdout.trim();
}

async function remoteSha(h: Host, file: string): Promise<string> {
  return (await h.exec(cmd`sha256sum -- ${file}`)).stdout.split(' ')[0]!;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

beforeAll(async () => {
  fleet = useFleet();
  targets = fleetHosts(fleet);
  h1 = targets.host('h1');
  local = await mkdtemp(path.join(tmpdir(), 'deployr-files-test-'));
  await h1.mkdirp(work);
});

afterAll(async () => {
  await h1?.sudo(cmd`rm -rf -- ${work}`, { nothrow: true }); // as-root putDir left root-owned files
  await targets?.close();
  if (local) await rm(local, { recursive: true, force: true });
});

describe('put and get', () => {
  it('round-trips 5 MB of random binary data with progress reports', async () => {
    const data = randomBytes(5 * 1024 * 1024);
    const source = path.join(local, 'random.bin');
    await writeFile(source, data);
    const up: Array<[number, number]> = [];
    await h1.put(source, `${work}/random.bin`, { onProgress: (done, total) => up.push([done, total]) });
    expect(await remoteSha(h1, `${work}/random.bin`)).toBe(sha256(data));

    const back = path.join(local, 'random.back.bin');
    const down: number[] = [];
    await h1.get(`${work}/random.bin`, back, { onProgress: (done) => down.push(done) });
    expect(sha256(await readFile(back))).toBe(sha256(data));

    for (const series of [up.map(([done]) => done), down]) {
      expect(series.length).toBeGreaterThan(1);
      expect(series).toEqual([...series].sort((a, b) => a - b)); // never goes backwards
      expect(series[series.length - 1]).toBe(data.length);
    }
    expect(up.every(([, total]) => total === data.length)).toBe(true);
  });

  it('handles names with spaces, quotes, unicode, a leading dash and shell syntax', async () => {
    for (const name of HOSTILE_NAMES) {
      const source = path.join(local, name);
      const content = `content of ${name}\n`;
      await writeFile(source, content);
      await h1.put(source, `${work}/${name}`);
      expect(await h1.readFile(`${work}/${name}`), name).toBe(content);
      const back = path.join(local, `back ${name}`);
      await h1.get(`${work}/${name}`, back);
      expect(await readFile(back, 'utf8')).toBe(content);
    }
    expect(await h1.exists(`${work}/pwned`)).toBe(false);
    expect(await h1.exists('pwned')).toBe(false);
  });

  it('keeps the source mode (0755 vs 0640), also when overwriting a file with another mode', async () => {
    const exe = path.join(local, 'tool.sh');
    const secretish = path.join(local, 'config.ini');
    await writeFile(exe, '#!/bin/sh\necho tool ran\n');
    await writeFile(secretish, 'key=value\n');
    await chmod(exe, 0o755);
    await chmod(secretish, 0o640);
    await h1.put(exe, `${work}/tool.sh`);
    await h1.put(secretish, `${work}/config.ini`);
    expect(await remoteMode(h1, `${work}/tool.sh`)).toBe('755');
    expect(await remoteMode(h1, `${work}/config.ini`)).toBe('640');
    expect((await h1.exec(cmd`${`${work}/tool.sh`}`)).stdout).toBe('tool ran\n');

    await h1.put(secretish, `${work}/tool.sh`); // existing 0755 file, 0640 source
    expect(await remoteMode(h1, `${work}/tool.sh`)).toBe('640');
    await h1.put(exe, `${work}/explicit`, { mode: 0o700 });
    expect(await remoteMode(h1, `${work}/explicit`)).toBe('700');

    const back = path.join(local, 'mode.back');
    await h1.get(`${work}/config.ini`, back, { mode: 0o600 });
    expect((await stat(back)).mode & 0o777).toBe(0o600);
  });

  it('uses the same SSH connection for SFTP and commands (no second login)', async () => {
    const own = fleetHosts(fleet);
    try {
      const h = own.host('h1');
      const source = path.join(local, 'same-conn.txt');
      await writeFile(source, 'x');
      await h.put(source, `${work}/same-conn.txt`);
      // sshd logs each session with the client's port: the SFTP session and the command share one connection.
      const [address = '', port = ''] = (await h.exec('echo "$SSH_CLIENT"')).stdout.trim().split(' ');
      expect(address).toMatch(/^[\d.]+$/);
      const log = await readFile(path.join(fleet.hosts[0]!.root, 'sshd.log'), 'utf8');
      expect(log).toContain(`Starting session: subsystem 'sftp' for ${fleet.user} from ${address} port ${port} `);
      expect(log.match(new RegExp(`Accepted publickey for ${fleet.user} from ${address.replace(/\./g, '\\.')} port ${port} `, 'g'))).toHaveLength(1);
    } finally {
      await own.close();
    }
  });

  it('put and get resolve relative paths against cd()', async () => {
    const source = path.join(local, 'cd-put.txt');
    await writeFile(source, `cd ${tag}\n`);
    await h1.mkdirp(`${work}/cd-target/sub`);
    const inWork = h1.cd(work);
    await inWork.put(source, 'cd-target/sub/cd-put.txt');
    expect((await hostShell(fleet, 'h1', `cat ${work}/cd-target/sub/cd-put.txt`)).stdout).toBe(`cd ${tag}\n`);
    await inWork.cd('cd-target').cd('sub').put(source, 'again.txt');
    expect(await h1.readFile(`${work}/cd-target/sub/again.txt`)).toBe(`cd ${tag}\n`);
    const back = path.join(local, 'cd-get.txt');
    await inWork.cd('cd-target').get('sub/cd-put.txt', back);
    expect(await readFile(back, 'utf8')).toBe(`cd ${tag}\n`);
    // Nothing landed in the login dir.
    expect(await h1.exists('cd-target')).toBe(false);
    expect(await h1.exists('again.txt')).toBe(false);
  });

  it("put and get with ~/ use the login user's home, also under cd(); ~user is refused", async () => {
    const name = `tilde-${tag}.txt`;
    const source = path.join(local, name);
    await writeFile(source, `home ${tag}\n`);
    try {
      await h1.put(source, `~/${name}`);
      expect((await hostShell(fleet, 'h1', `cat /home/${fleet.user}/${name}`)).stdout).toBe(`home ${tag}\n`);
      const back = path.join(local, `back-${name}`);
      await h1.cd(work).get(`~/${name}`, back); // ~ replaces the cd
      expect(await readFile(back, 'utf8')).toBe(`home ${tag}\n`);
      await h1.cd('~').put(source, `second-${name}`);
      expect((await hostShell(fleet, 'h1', `cat /home/${fleet.user}/second-${name}`)).stdout).toBe(`home ${tag}\n`);
      expect(await h1.exists(`${work}/${name}`)).toBe(false);

      // SFTP cannot expand ~user: a TransferError up front, rather than a file named '~deploy'.
      const up = (await rejection(h1.put(source, `~${fleet.user}/${name}`))) as TransferError;
      expect(up).toBeInstanceOf(TransferError);
      expect(up.host).toBe('h1');
      expect(up.message).toContain(`~${fleet.user}/${name}`);
      expect(up.hint).toMatch(/absolute path/);
      const down = (await rejection(h1.get(`~${fleet.user}/${name}`, path.join(local, 'never-tilde.txt')))) as TransferError;
      expect(down).toBeInstanceOf(TransferError);
      await expect(stat(path.join(local, 'never-tilde.txt'))).rejects.toThrow(/ENOENT/);
      expect(await h1.exists(`~/~${fleet.user}`)).toBe(false);
    } finally {
      await h1.exec(cmd`rm -f -- ${name} ${`second-${name}`}`);
    }
  });

  it('put to a missing remote dir: TransferError naming host and path, with the mkdirp hint', async () => {
    const source = path.join(local, 'orphan.txt');
    await writeFile(source, 'x');
    const target = `${work}/no/such/dir/orphan.txt`;
    const error = (await rejection(h1.put(source, target))) as TransferError;
    expect(error).toBeInstanceOf(TransferError);
    expect(error.code).toBe('TRANSFER_ERROR');
    expect(error.host).toBe('h1');
    expect(error.message).toContain('h1');
    expect(error.message).toContain(target);
    expect(error.hint).toMatch(/mkdirp/);
  });

  it('put of a missing local file, and get of a missing remote file: TransferError, nothing created', async () => {
    const missingLocal = await rejection(h1.put(path.join(local, 'nope'), `${work}/nope`));
    expect(missingLocal).toBeInstanceOf(TransferError);
    expect(missingLocal.message).toContain(path.join(local, 'nope'));
    expect(await h1.exists(`${work}/nope`)).toBe(false);

    const localTarget = path.join(local, 'never.txt');
    const missingRemote = (await rejection(h1.get(`${work}/missing.txt`, localTarget))) as TransferError;
    expect(missingRemote).toBeInstanceOf(TransferError);
    expect(missingRemote.host).toBe('h1');
    expect(missingRemote.message).toContain(`${work}/missing.txt`);
    expect(missingRemote.hint).toMatch(/does not exist/);
    await expect(stat(localTarget)).rejects.toThrow(/ENOENT/);
  });

  it('a permission problem says so', async () => {
    const source = path.join(local, 'denied.txt');
    await writeFile(source, 'x');
    const error = (await rejection(h1.put(source, '/etc/deployr-denied.txt'))) as TransferError;
    expect(error).toBeInstanceOf(TransferError);
    expect(error.hint).toMatch(/permission/);
  });
});

/** `mode type path [-> target]` for every entry under `dir`, sorted: the same shape as find -printf below. */
async function localListing(dir: string, rel = '.'): Promise<string[]> {
  const lines: string[] = [];
  for (const name of await readdir(path.join(dir, rel))) {
    const relPath = `${rel}/${name}`;
    const full = path.join(dir, relPath);
    const info = await lstat(full);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) lines.push(`777 l ${relPath} -> ${await readlink(full)}`);
    else if (info.isDirectory()) lines.push(`${mode} d ${relPath}`, ...(await localListing(dir, relPath)));
    else lines.push(`${mode} f ${relPath}`);
  }
  return lines.sort();
}

async function remoteListing(h: Host, dir: string): Promise<string[]> {
  const r = await h.cd(dir).exec(`find . -mindepth 1 -printf '%m %y %p' \\( -type l -printf ' -> %l' -o -true \\) -printf '\\n'`);
  return r.stdout.split('\n').filter(Boolean).sort();
}

async function localHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of await localListing(dir)) {
    const [, type, ...rest] = line.split(' ');
    if (type === 'f') {
      const rel = rest.join(' ');
      out[rel] = sha256(await readFile(path.join(dir, rel)));
    }
  }
  return out;
}

async function remoteHashes(h: Host, dir: string): Promise<Record<string, string>> {
  const r = await h.cd(dir).exec(`find . -type f -exec sha256sum {} +`);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [hash, ...name] = line.split('  ');
    out[name.join('  ')] = hash!;
  }
  return out;
}

describe('putDir', () => {
  let tree: string;

  beforeAll(async () => {
    tree = path.join(local, 'tree');
    await mkdir(path.join(tree, 'bin'), { recursive: true });
    await mkdir(path.join(tree, 'deep/a/b/c'), { recursive: true });
    await mkdir(path.join(tree, 'empty'));
    await mkdir(path.join(tree, 'private'));
    await mkdir(path.join(tree, 'dir with spaces'));
    await writeFile(path.join(tree, 'bin/start'), '#!/bin/sh\necho started "$@"\n');
    await writeFile(path.join(tree, 'blob.bin'), randomBytes(300 * 1024));
    await writeFile(path.join(tree, 'deep/a/b/c/leaf.txt'), 'leaf\n');
    await writeFile(path.join(tree, 'private/key'), 'k\n');
    await writeFile(path.join(tree, 'dir with spaces/empty-file'), '');
    for (const name of HOSTILE_NAMES) await writeFile(path.join(tree, name), `${name}\n`);
    await symlink('blob.bin', path.join(tree, 'link-to-blob'));
    await symlink('deep/a', path.join(tree, 'link-to-dir'));
    // Explicit modes, independent of this machine's umask.
    for (const dir of ['.', 'bin', 'deep', 'deep/a', 'deep/a/b', 'deep/a/b/c', 'empty', 'dir with spaces']) await chmod(path.join(tree, dir), 0o755);
    await chmod(path.join(tree, 'private'), 0o750);
    await chmod(path.join(tree, 'bin/start'), 0o755);
    await chmod(path.join(tree, 'private/key'), 0o600);
    await chmod(path.join(tree, 'deep/a/b/c/leaf.txt'), 0o640);
    for (const f of ['blob.bin', 'dir with spaces/empty-file', ...HOSTILE_NAMES]) await chmod(path.join(tree, f), 0o644);
  });

  it('uploads a tree with modes, empty dirs, binaries, symlinks and hostile names intact', async () => {
    const dest = `${work}/release one`;
    const progress: Array<{ entries: number; bytes: number }> = [];
    const result = await h1.putDir(tree, dest, { onProgress: (p) => progress.push({ ...p }) });

    expect(await remoteListing(h1, dest)).toEqual(await localListing(tree));
    expect(await remoteHashes(h1, dest)).toEqual(await localHashes(tree));
    expect(await remoteMode(h1, dest)).toBe('755');
    expect((await h1.cd(dest).exec('./bin/start ok')).stdout).toBe('started ok\n');
    expect((await h1.exec(cmd`readlink ${`${dest}/link-to-blob`}`)).stdout).toBe('blob.bin\n');
    expect(await h1.exists(`${work}/pwned`)).toBe(false);
    // Files belong to the SSH user, not to this machine's uid.
    expect((await h1.cd(dest).exec(`find . ! -user ${fleet.user} | wc -l`)).stdout.trim()).toBe('0');

    const entries = (await localListing(tree)).length; // every entry under the tree; the root itself is not packed
    expect(result.entries).toBe(entries);
    expect(result.bytes).toBeGreaterThan(300 * 1024);
    expect(progress.length).toBeGreaterThan(1);
    const bytes = progress.map((p) => p.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).toEqual(result);
  });

  it('uploading again over an existing dir replaces changed files and modes', async () => {
    const dest = `${work}/release-update`;
    await h1.putDir(tree, dest);
    const copy = path.join(local, 'tree-v2');
    await h1.putDir(tree, dest); // idempotent: a second identical upload changes nothing
    expect(await remoteListing(h1, dest)).toEqual(await localListing(tree));

    await mkdir(copy);
    await writeFile(path.join(copy, 'blob.bin'), 'smaller now\n');
    await writeFile(path.join(copy, 'new file'), 'new\n');
    await mkdir(path.join(copy, 'bin'));
    await writeFile(path.join(copy, 'bin/start'), '#!/bin/sh\necho v2\n');
    await chmod(path.join(copy, 'bin/start'), 0o700);
    await chmod(copy, 0o755);
    await h1.putDir(copy, dest);

    expect(await h1.readFile(`${dest}/blob.bin`)).toBe('smaller now\n');
    expect(await h1.readFile(`${dest}/new file`)).toBe('new\n');
    expect(await remoteMode(h1, `${dest}/bin/start`)).toBe('700');
    expect((await h1.exec(cmd`${`${dest}/bin/start`}`)).stdout).toBe('v2\n');
    // tar adds and replaces; it does not delete what the new tree lacks.
    expect(await h1.readFile(`${dest}/deep/a/b/c/leaf.txt`)).toBe('leaf\n');
  });

  it('honours a filter', async () => {
    const dest = `${work}/filtered`;
    const result = await h1.putDir(tree, dest, { filter: (p) => !p.includes('private') && !p.endsWith('.bin') });
    const listing = await remoteListing(h1, dest);
    expect(listing.some((l) => l.includes('private'))).toBe(false);
    expect(listing.some((l) => l.endsWith(' ./blob.bin'))).toBe(false);
    expect(listing).toContain('755 f ./bin/start');
    expect(listing).toContain('777 l ./link-to-blob -> blob.bin'); // the link is kept (it is not a .bin path)
    expect(result.entries).toBe(listing.length);
  });

  it('gives the filter paths relative to the dir, without ./, one per entry', async () => {
    const seen: string[] = [];
    const dest = `${work}/filter-paths`;
    const result = await h1.putDir(tree, dest, {
      filter: (p) => {
        seen.push(p);
        return !p.startsWith('deep/a/b');
      },
    });
    const expected = (await localListing(tree)).map((line) => line.split(' ').slice(2).join(' ').replace(/^\.\//, '').replace(/ -> .*$/, ''));
    expect([...new Set(seen)].sort()).toEqual(expected.filter((p) => !p.startsWith('deep/a/b/')).sort());
    expect(seen).toContain('bin/start');
    expect(seen).toContain('deep/a/b'); // rejected, so its children are never offered
    expect(seen).toContain('dir with spaces/empty-file');
    expect(seen).not.toContain('deep/a/b/c/leaf.txt');
    expect(seen.filter((p) => p === '.' || p === '' || p.startsWith('./') || p.startsWith('/'))).toEqual([]);
    expect(await h1.exists(`${dest}/deep/a`)).toBe(true);
    expect(await h1.exists(`${dest}/deep/a/b`)).toBe(false);
    expect(result.entries).toBe((await remoteListing(h1, dest)).length);
  });

  it("leaves the target dir's own mode alone (a 0755 target stays 0755 after an upload from a 0700 dir)", async () => {
    const from = await mkdtemp(path.join(tmpdir(), 'deployr-putdir-mode-')); // mkdtemp makes it 0700
    try {
      await writeFile(path.join(from, 'index.html'), '<h1>x</h1>\n');
      await chmod(path.join(from, 'index.html'), 0o644);
      expect((await stat(from)).mode & 0o777).toBe(0o700);
      const dest = `${work}/www`;
      await h1.exec(cmd`mkdir -m 0755 -- ${dest}`);
      expect(await remoteMode(h1, dest)).toBe('755');
      const result = await h1.putDir(from, dest);
      expect(await remoteMode(h1, dest)).toBe('755'); // before: tar -p gave it the source's 0700
      expect(await h1.readFile(`${dest}/index.html`)).toBe('<h1>x</h1>\n');
      expect(result.entries).toBe(1);
      // And the other way: an upload from a 0755 dir does not widen a 0750 target.
      await chmod(from, 0o755);
      const narrow = `${work}/www-narrow`;
      await h1.exec(cmd`mkdir -m 0750 -- ${narrow}`);
      await h1.putDir(from, narrow);
      expect(await remoteMode(h1, narrow)).toBe('750');
      // Through sudo too: root's tar -p must not chmod the target either.
      await h1.as('root').putDir(from, narrow);
      expect(await remoteMode(h1, narrow)).toBe('750');
      expect((await h1.exec(cmd`stat -c %U -- ${narrow}`)).stdout).toBe(`${fleet.user}\n`);
    } finally {
      await rm(from, { recursive: true, force: true });
    }
  });

  it('an empty dir makes just the target', async () => {
    const from = path.join(local, 'empty-source');
    await mkdir(from);
    const dest = `${work}/from-empty/deeper`;
    expect(await h1.putDir(from, dest)).toEqual({ entries: 0, bytes: 0 });
    expect((await h1.exec(cmd`ls -A -- ${dest}`)).stdout).toBe('');
  });

  it('a local file that cannot be read fails with a TransferError naming it, and the connection stays usable', async () => {
    const from = path.join(local, 'unreadable-tree');
    await mkdir(from, { recursive: true });
    await writeFile(path.join(from, 'a.txt'), 'a');
    await writeFile(path.join(from, 'vanishing.txt'), 'gone before it is read');
    await writeFile(path.join(from, 'z.txt'), 'z');
    // The filter runs between node-tar's stat and its open: removing the file there makes the read fail, every time.
    const filter = (name: string): boolean => {
      if (name === 'vanishing.txt') rmSync(path.join(from, name));
      return true;
    };
    const error = (await rejection(h1.putDir(from, `${work}/unreadable`, { filter }))) as TransferError;
    expect(error).toBeInstanceOf(TransferError);
    expect(error.host).toBe('h1');
    expect(error.message).toContain('h1');
    expect(error.message).toContain(`cannot read ${path.join(from, 'vanishing.txt')}`);
    expect(error.message).not.toMatch(/connection lost/);
    expect(error.cause).toMatchObject({ code: 'ENOENT' });
    expect((await h1.exec('echo still usable')).stdout).toBe('still usable\n');
  });

  it('a missing local dir is a TransferError and nothing is created remotely', async () => {
    const dest = `${work}/never-created`;
    const error = (await rejection(h1.putDir(path.join(local, 'no-such-dir'), dest))) as TransferError;
    expect(error).toBeInstanceOf(TransferError);
    expect(error.host).toBe('h1');
    expect(error.message).toContain('no-such-dir');
    expect(await h1.exists(dest)).toBe(false);
  });

  it('a remote dir that cannot be created fails with a CommandError naming the host', async () => {
    const error = (await rejection(h1.putDir(tree, '/etc/deployr-denied-dir'))) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.message).toContain('on h1');
    expect(error.stderr).toMatch(/Permission denied/);
  });

  it('putDir through sudo creates root-owned files', async () => {
    const dest = `${work}/as-root`;
    await h1.as('root').putDir(path.join(tree, 'deep'), dest);
    expect((await h1.exec(cmd`stat -c %U ${`${dest}/a/b/c/leaf.txt`}`)).stdout).toBe('root\n');
    expect(await remoteMode(h1, `${dest}/a/b/c/leaf.txt`)).toBe('640');
  });
});

describe('readFile, writeFile, exists, which, mkdirp', () => {
  it('writeFile writes atomically (new inode, no temp file left) with the given mode', async () => {
    const file = `${work}/atomic/it's a "file".txt`;
    await h1.mkdirp(`${work}/atomic`);
    await h1.writeFile(file, 'first\n');
    expect(await remoteMode(h1, file)).toBe('644');
    const inode1 = (await h1.exec(cmd`stat -c %i -- ${file}`)).stdout;
    await h1.writeFile(file, 'second ✓\n', { mode: 0o600 });
    const inode2 = (await h1.exec(cmd`stat -c %i -- ${file}`)).stdout;
    expect(inode2).not.toBe(inode1); // renamed into place, never rewritten in place
    expect(await h1.readFile(file)).toBe('second ✓\n');
    expect(await remoteMode(h1, file)).toBe('600');
    expect((await h1.exec(cmd`ls -A ${`${work}/atomic`}`)).stdout).toBe(`it's a "file".txt\n`);
  });

  it("writeFile without a mode keeps an existing file's mode; a new file gets 0644; an explicit mode wins", async () => {
    const dir = `${work}/modes`;
    await h1.mkdirp(dir);
    const env = `${dir}/.env`;
    await h1.exec(cmd`printf 'TOKEN=old\n' > ${env} && chmod 600 ${env}`);
    await h1.writeFile(env, 'TOKEN=new\n');
    expect(await h1.readFile(env)).toBe('TOKEN=new\n');
    expect(await remoteMode(h1, env)).toBe('600'); // a secret stays private when rewritten

    const script = `${dir}/run.sh`;
    await h1.writeFile(script, '#!/bin/sh\necho v1\n', { mode: 0o750 });
    await h1.writeFile(script, '#!/bin/sh\necho v2\n');
    expect(await remoteMode(h1, script)).toBe('750');
    expect((await h1.exec(cmd`${script}`)).stdout).toBe('v2\n');

    const fresh = `${dir}/new.txt`;
    await h1.writeFile(fresh, 'new\n');
    expect(await remoteMode(h1, fresh)).toBe('644'); // not 600, whatever the command's umask 077

    await h1.writeFile(env, 'TOKEN=wider\n', { mode: 0o640 });
    expect(await remoteMode(h1, env)).toBe('640');
    await h1.writeFile(fresh, 'narrower\n', { mode: 0o600 });
    expect(await remoteMode(h1, fresh)).toBe('600');

    // Through a symlink: the mode readers saw, the target's; relative paths under cd(), one with a leading dash too.
    await h1.exec(cmd`ln -s .env ${`${dir}/env-link`}`);
    await h1.cd(dir).writeFile('env-link', 'TOKEN=via link\n');
    expect(await remoteMode(h1, `${dir}/env-link`)).toBe('640');
    await h1.cd(dir).writeFile('-dash.env', 'x\n', { mode: 0o600 });
    await h1.cd(dir).writeFile('-dash.env', 'y\n');
    expect(await h1.readFile(`${dir}/-dash.env`)).toBe('y\n');
    expect(await remoteMode(h1, `${dir}/-dash.env`)).toBe('600');

    // As root through sudo: a root-only file stays root-only.
    const rootOnly = `${dir}/root.env`;
    await h1.sudo(cmd`sh -c ${`printf 'x\n' > ${rootOnly} && chmod 600 ${rootOnly}`}`);
    await h1.as('root').writeFile(rootOnly, 'y\n');
    expect((await h1.sudo(cmd`stat -c %a:%U -- ${rootOnly}`)).stdout.trim()).toBe('600:root');
    await h1.sudo(cmd`rm -f -- ${rootOnly}`);
    expect((await h1.exec(cmd`ls -A ${dir}`)).stdout.split('\n').filter((name) => name.includes('.deployr-'))).toEqual([]);
  });

  it('writeFile takes binary Buffers; readFile returns text', async () => {
    const data = randomBytes(64 * 1024);
    await h1.writeFile(`${work}/binary.dat`, data);
    expect(await remoteSha(h1, `${work}/binary.dat`)).toBe(sha256(data));
    await h1.writeFile(`${work}/empty.txt`, '');
    expect(await h1.readFile(`${work}/empty.txt`)).toBe('');
  });

  it('writeFile into a missing dir fails and leaves no temp file; ~/ paths land in the home dir', async () => {
    await expect(h1.writeFile(`${work}/missing-dir/file`, 'x')).rejects.toBeInstanceOf(CommandError);
    expect(await h1.exists(`${work}/missing-dir`)).toBe(false);

    await h1.writeFile(`~/files-${tag}.txt`, 'home\n');
    const onHost = await hostShell(fleet, 'h1', `cat /home/${fleet.user}/files-${tag}.txt`);
    expect(onHost.stdout).toBe('home\n');
    expect(await h1.readFile(`~/files-${tag}.txt`)).toBe('home\n');
    expect(await h1.exists(`~/files-${tag}.txt`)).toBe(true);
    await h1.exec(cmd`rm -f ${`files-${tag}.txt`}`);
  });

  it('readFile of a missing file is a CommandError with "No such file"', async () => {
    const error = (await rejection(h1.readFile(`${work}/does-not-exist`))) as CommandError;
    expect(error).toBeInstanceOf(CommandError);
    expect(error.message).toContain('No such file');
    expect(error.message).toContain(`${work}/does-not-exist`);
  });

  it('exists, which and mkdirp', async () => {
    expect(await h1.exists('/srv')).toBe(true);
    expect(await h1.exists(`${work}/nope`)).toBe(false);
    expect(await h1.exists(`${work}/-leading-dash.txt`)).toBe(true); // uploaded above
    expect(await h1.which('sh')).toMatch(/^\/(usr\/)?bin\/sh$/);
    expect(await h1.which(`no-such-program-${tag}`)).toBeNull();
    expect(await h1.which(`$(touch ${work}/which-pwned)`)).toBeNull();
    expect(await h1.exists(`${work}/which-pwned`)).toBe(false);

    const nested = `${work}/mk/a b/-c/'d'/ü`;
    await h1.mkdirp(nested);
    await h1.mkdirp(nested); // idempotent
    expect(await h1.exists(nested)).toBe(true);
    expect((await h1.exec(cmd`test -d ${nested} && echo dir`)).stdout).toBe('dir\n');
  });
});

describe('isolation', () => {
  it("each host has its own /srv: a file written on h1 is not visible on h2", async () => {
    const file = `/srv/isolation-${tag}.txt`;
    const h2 = targets.host('h2');
    try {
      await h1.writeFile(file, 'h1 only\n');
      expect(await h1.exists(file)).toBe(true);
      expect(await h2.exists(file)).toBe(false);
      expect((await hostShell(fleet, 'h2', `test -e ${file} && echo yes || echo no`)).stdout).toBe('no\n');
      expect((await hostShell(fleet, 'h1', `cat ${file}`)).stdout).toBe('h1 only\n');
    } finally {
      await h1.exec(cmd`rm -f ${file}`);
    }
  });
});

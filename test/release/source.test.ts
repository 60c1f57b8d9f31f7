// scanSource and gitInfo against real directories and a real git: ignore
// rules are checked both case by case and against `git ls-files` itself.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type * as fs from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SourceError } from '../../core/errors.js';
import { gitInfo, scanSource, type SourceTree } from '../../core/release/source/index.js';

// A pass-through createReadStream that lets a test see each file being opened (to abort mid-hash, to count
// parallel reads). Only scan.ts reads through node:fs here; the test itself uses node:fs/promises.
const reads = vi.hoisted(() => ({ onOpen: undefined as ((stream: fs.ReadStream) => void) | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const createReadStream = ((...args: Parameters<typeof real.createReadStream>) => {
    const stream = real.createReadStream(...args);
    reads.onOpen?.(stream);
    return stream;
  }) as typeof real.createReadStream;
  return { ...real, createReadStream };
});

const isRoot = process.getuid?.() === 0;
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

let base: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'deployr-source-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A fresh directory holding `entries`: path → content, or a path ending in '/' for an empty directory. */
async function make(entries: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(join(base, 'case-'));
  for (const [rel, content] of Object.entries(entries)) {
    if (rel.endsWith('/')) {
      await mkdir(join(dir, rel), { recursive: true });
    } else {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), content);
    }
  }
  return dir;
}

const filePaths = (tree: SourceTree): string[] => [...tree.files.keys()];

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

async function gitRepo(entries: Record<string, string>): Promise<string> {
  const dir = await make(entries);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'test@deployr.invalid');
  git(dir, 'config', 'user.name', 'deployr test');
  git(dir, 'config', 'commit.gpgsign', 'false');
  return dir;
}

function commitAll(dir: string): void {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'test');
}

describe('scanSource: ignore rules', () => {
  it('applies nested .gitignore files to their own directory and below', async () => {
    const dir = await make({
      '.gitignore': '*.log\n',
      'app.log': '',
      'local.txt': 'kept at the root',
      'sub/.gitignore': 'local.txt\n',
      'sub/local.txt': '',
      'sub/deeper/local.txt': '',
      'sub/deeper/x.log': '',
      'sub/keep.txt': '',
      'other/local.txt': '',
    });
    expect(filePaths(await scanSource(dir))).toEqual([
      '.gitignore',
      'local.txt',
      'other/local.txt',
      'sub/.gitignore',
      'sub/keep.txt',
    ]);
  });

  it('re-includes with !, and a deeper level overrides a higher one', async () => {
    const dir = await make({
      '.gitignore': '*.log\n!important.log\n',
      'debug.log': '',
      'important.log': '',
      'sub/.gitignore': '!debug.log\nimportant.log\n',
      'sub/debug.log': '',
      'sub/important.log': '',
      'sub/other.log': '',
    });
    expect(filePaths(await scanSource(dir))).toEqual(['.gitignore', 'important.log', 'sub/.gitignore', 'sub/debug.log']);
  });

  it('anchors patterns with a leading or middle slash, matches others at any depth', async () => {
    const dir = await make({
      '.gitignore': '/top.txt\ndocs/*.md\nanywhere.txt\na/**/deep.txt\n',
      'top.txt': '',
      'sub/top.txt': '',
      'docs/a.md': '',
      'docs/b.txt': '',
      'sub/docs/a.md': '',
      'anywhere.txt': '',
      'x/y/anywhere.txt': '',
      'a/deep.txt': '',
      'a/b/c/deep.txt': '',
      'b/deep.txt': '',
    });
    expect(filePaths(await scanSource(dir))).toEqual([
      '.gitignore',
      'b/deep.txt',
      'docs/b.txt',
      'sub/docs/a.md',
      'sub/top.txt',
    ]);
  });

  it('matches a trailing-slash pattern against directories only, and never looks inside one it ignores', async () => {
    const dir = await make({
      '.gitignore': 'cache/\n!cache/keep.txt\n',
      'cache/keep.txt': '',
      'cache/data.bin': '',
      'sub/cache/x': '',
      'other/cache': 'a file named cache',
    });
    const tree = await scanSource(dir);
    expect(filePaths(tree)).toEqual(['.gitignore', 'other/cache']);
    expect([...tree.dirs.keys()]).toEqual(['other', 'sub']);
  });

  it('skips comments and blank lines, and honours escaped # and !', async () => {
    const dir = await make({
      '.gitignore': '# plain.txt\n\n\\#hash.txt\n\\!bang.txt\n',
      'plain.txt': '',
      '#hash.txt': '',
      '!bang.txt': '',
      '# plain.txt': '',
    });
    expect(filePaths(await scanSource(dir))).toEqual(['# plain.txt', '.gitignore', 'plain.txt']);
  });

  it('matches case-sensitively, as git does on Linux', async () => {
    const dir = await make({ '.gitignore': 'Secret.txt\n', 'Secret.txt': '', 'secret.txt': '' });
    expect(filePaths(await scanSource(dir))).toEqual(['.gitignore', 'secret.txt']);
  });

  it('lets .deployrignore re-include what .gitignore leaves out, and leave out more', async () => {
    const dir = await make({
      '.gitignore': 'dist/\n.env\n',
      '.deployrignore': '!dist/\n!.env\ntests/\n',
      'dist/app.js': 'built',
      '.env': 'X=1',
      'tests/a.test.js': '',
      'src/.gitignore': 'generated.js\n',
      'src/.deployrignore': '!generated.js\n',
      'src/generated.js': '',
    });
    expect(filePaths(await scanSource(dir))).toEqual([
      '.deployrignore',
      '.env',
      '.gitignore',
      'dist/app.js',
      'src/.deployrignore',
      'src/.gitignore',
      'src/generated.js',
    ]);
  });

  it('judges paths inside a directory re-included by a deeper level on their own', async () => {
    // `ignore` alone would call everything under sub/gen ignored because the root level ignores sub/gen/.
    const dir = await make({
      '.gitignore': 'gen/\n*.tmp\n',
      'gen/h': '',
      'sub/.deployrignore': '!gen/\n',
      'sub/gen/f': '',
      'sub/gen/deep/g': '',
      'sub/gen/x.tmp': '',
    });
    const tree = await scanSource(dir);
    expect(filePaths(tree)).toEqual(['.gitignore', 'sub/.deployrignore', 'sub/gen/deep/g', 'sub/gen/f']);
    expect([...tree.dirs.keys()]).toEqual(['sub', 'sub/gen', 'sub/gen/deep']);
  });

  it('applies options.ignore at the root, after the root\'s ignore files', async () => {
    const dir = await make({
      '.gitignore': 'dist/\n',
      '.deployrignore': 'notes.md\n',
      'dist/app.js': '',
      'notes.md': '',
      'secret.key': '',
      'sub/secret.key': '',
      'sub/.deployrignore': '!secret.key\n',
    });
    const tree = await scanSource(dir, { ignore: ['*.key', '!dist/', '!notes.md'] });
    // sub's own file is deeper than the root, so its `!secret.key` still wins there.
    expect(filePaths(tree)).toEqual(['.deployrignore', '.gitignore', 'dist/app.js', 'notes.md', 'sub/.deployrignore', 'sub/secret.key']);
  });

  it('agrees with git ls-files on a tree full of tricky patterns', async () => {
    const dir = await gitRepo({
      '.gitignore': [
        '# a comment',
        '*.log',
        '!important.log',
        '/only-root.txt',
        'docs/*.md',
        'build/',
        '!build/keep.js',
        '**/tmp/**',
        'a/**/deep.txt',
        '\\#hash.txt',
        '\\!bang.txt',
        'gen/',
        '*.tmp',
        'Case.txt',
        'trailing.txt   ',
        '[xy]ray.txt',
        'q?.txt',
        '',
      ].join('\n'),
      'sub/.gitignore': '!gen/\nlocal.txt\n!keep.tmp\n/anchored.txt\n!/only-root.txt\n',
      'debug.log': '',
      'important.log': '',
      'sub/x.log': '',
      'sub/important.log': '',
      'only-root.txt': '',
      'sub/only-root.txt': '',
      'docs/a.md': '',
      'docs/b.txt': '',
      'sub/docs/a.md': '',
      'build/out.js': '',
      'build/keep.js': '',
      'sub/build': 'a file, not a directory',
      'tmp/x': '',
      'sub/tmp/y/z': '',
      'a/deep.txt': '',
      'a/b/c/deep.txt': '',
      '#hash.txt': '',
      '!bang.txt': '',
      'gen/h': '',
      'sub/gen/f': '',
      'sub/gen/x.tmp': '',
      'sub/gen/keep.tmp': '',
      'local.txt': '',
      'sub/local.txt': '',
      'sub/anchored.txt': '',
      'sub/s2/anchored.txt': '',
      'case.txt': '',
      'Case.txt': '',
      'trailing.txt': '',
      'xray.txt': '',
      'zray.txt': '',
      'q1.txt': '',
      'q12.txt': '',
    });
    const expected = git(dir, 'ls-files', '--others', '--exclude-standard', '-z').split('\0').filter(Boolean).sort();
    expect(expected.length).toBeGreaterThan(10);
    expect(filePaths(await scanSource(dir))).toEqual(expected);
  });
});

describe('scanSource: what is left out', () => {
  it('never ships .git/ or .deployr/ directories, at any depth', async () => {
    const dir = await make({
      '.git/config': '',
      '.deployr/state.json': '',
      'vendor/lib/.git/HEAD': '',
      'vendor/lib/.deployr/x': '',
      'vendor/lib/index.js': '',
      '.gitkeep': '',
      'vendor/.git': 'gitdir: ../.git/modules/vendor',
    });
    const tree = await scanSource(dir);
    expect(filePaths(tree)).toEqual(['.gitkeep', 'vendor/.git', 'vendor/lib/index.js']);
    expect([...tree.dirs.keys()]).toEqual(['vendor', 'vendor/lib']);
  });

  it('leaves out options.exclude (absolute paths) and everything below it', async () => {
    const dir = await make({
      'releases/1/app.js': '',
      'releases-old/app.js': '',
      'sub/cache.db': '',
      'sub/keep.txt': '',
    });
    const tree = await scanSource(dir, {
      exclude: [join(dir, 'releases'), join(dir, 'sub', 'cache.db'), join(base, 'elsewhere')],
    });
    expect(filePaths(tree)).toEqual(['releases-old/app.js', 'sub/keep.txt']);
    expect([...tree.dirs.keys()]).toEqual(['releases-old', 'sub']);
  });

  it.skipIf(process.platform === 'win32')('skips fifos, and ignore rules apply to them too', async () => {
    const dir = await make({ '.gitignore': 'ignored-pipe\n', 'sub/a.txt': 'a' });
    execFileSync('mkfifo', [join(dir, 'sub', 'pipe'), join(dir, 'ignored-pipe')]);
    const tree = await scanSource(dir);
    expect(tree.skipped).toEqual(['sub/pipe']);
    expect(filePaths(tree)).toEqual(['.gitignore', 'sub/a.txt']);
  });
});

describe('scanSource: what it records', () => {
  it('records symlinks with their target as written, without following them', async () => {
    const dir = await make({ 'real/inner.txt': 'inside', 'file.txt': 'x' });
    await symlink('real', join(dir, 'dir-link'));
    await symlink('file.txt', join(dir, 'file-link'));
    await symlink(join(base, 'nowhere'), join(dir, 'dangling'));
    const tree = await scanSource(dir);
    expect([...tree.symlinks]).toEqual([
      ['dangling', join(base, 'nowhere')],
      ['dir-link', 'real'],
      ['file-link', 'file.txt'],
    ]);
    expect(filePaths(tree)).toEqual(['file.txt', 'real/inner.txt']);
    expect([...tree.dirs.keys()]).toEqual(['real']);
  });

  it('records permission bits of files and directories', async () => {
    const dir = await make({ 'bin/deploy.sh': '#!/bin/sh\n', 'secret.txt': 's', 'plain.txt': 'p' });
    await chmod(join(dir, 'bin/deploy.sh'), 0o755);
    await chmod(join(dir, 'secret.txt'), 0o600);
    await chmod(join(dir, 'plain.txt'), 0o644);
    await chmod(join(dir, 'bin'), 0o750);
    const tree = await scanSource(dir);
    expect(tree.files.get('bin/deploy.sh')?.mode).toBe(0o755);
    expect(tree.files.get('secret.txt')?.mode).toBe(0o600);
    expect(tree.files.get('plain.txt')?.mode).toBe(0o644);
    expect(tree.dirs.get('bin')).toBe(0o750);
  });

  it('hashes and sizes each file, and sums the bytes', async () => {
    const big = randomBytes(1024 * 1024 + 17); // several stream chunks
    const dir = await make({ 'big.bin': big, 'empty.txt': '', 'hello.txt': 'hello\n', 'é/ü.txt': 'ünïcode' });
    const tree = await scanSource(dir);
    expect([...tree.files.values()]).toEqual([
      { path: 'big.bin', size: big.length, mode: expect.any(Number), sha256: sha256(big) },
      { path: 'empty.txt', size: 0, mode: expect.any(Number), sha256: sha256('') },
      { path: 'hello.txt', size: 6, mode: expect.any(Number), sha256: sha256('hello\n') },
      { path: 'é/ü.txt', size: Buffer.byteLength('ünïcode'), mode: expect.any(Number), sha256: sha256('ünïcode') },
    ]);
    expect(tree.bytes).toBe(big.length + 6 + Buffer.byteLength('ünïcode'));
    expect(tree.root).toBe(dir);
  });

  it('gives every map in plain string order, whatever the directory order', async () => {
    const names = ['b', 'a-b', 'a.b', 'a0', 'B', 'a/b', 'a/a', 'ab', 'a_b', 'Z', 'é', '~'];
    const dir = await make(Object.fromEntries(names.flatMap((n) => [[`${n}/f`, ''], [`${n}.txt`, '']])));
    for (const n of ['l1', 'L2', 'l-0']) await symlink('b', join(dir, n));
    const tree = await scanSource(dir);
    const plainOrder = (keys: Iterable<string>): string[] => [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(tree.files.size).toBe(names.length * 2);
    expect(filePaths(tree)).toEqual(plainOrder(tree.files.keys()));
    expect([...tree.dirs.keys()]).toEqual(plainOrder(tree.dirs.keys()));
    expect([...tree.symlinks.keys()]).toEqual(['L2', 'l-0', 'l1']);
    // '-' sorts before '/', so a walk that emits a directory's contents together would get this wrong.
    expect(filePaths(tree).indexOf('a-b/f')).toBeLessThan(filePaths(tree).indexOf('a/a/f'));
  });

  it('reads at most 16 files at once', async () => {
    const dir = await make(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`f${i}`, randomBytes(200_000)])));
    let open = 0;
    let most = 0;
    reads.onOpen = (stream) => {
      most = Math.max(most, ++open);
      stream.once('close', () => open--);
    };
    try {
      expect((await scanSource(dir)).files.size).toBe(80);
    } finally {
      reads.onOpen = undefined;
    }
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(16);
  });
});

describe('scanSource: errors', () => {
  it('rejects a name with a line break, naming it, unless it is ignored', async () => {
    const dir = await make({ 'sub/bad\nname.txt': '', 'ok.txt': '' });
    const error = await scanSource(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toContain(JSON.stringify('sub/bad\nname.txt'));
    expect((error as SourceError).hint).toMatch(/rename.*\.deployrignore/i);

    await writeFile(join(dir, '.deployrignore'), 'bad*\n');
    expect(filePaths(await scanSource(dir))).toEqual(['.deployrignore', 'ok.txt']);
  });

  it('rejects a carriage return in a directory name too', async () => {
    const dir = await make({ 'odd\rdir/': '' });
    await expect(scanSource(dir)).rejects.toThrow(SourceError);
  });

  it('rejects a missing directory or a file', async () => {
    const missing = join(base, 'no-such-dir');
    const error = await scanSource(missing).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toBe(`Cannot ship ${missing}: it does not exist`);
    expect((error as SourceError).hint).toContain('release.source');

    const dir = await make({ 'file.txt': '' });
    await expect(scanSource(join(dir, 'file.txt'))).rejects.toThrow(/^Cannot ship .*file\.txt: it is not a directory$/);
  });

  it.skipIf(isRoot)('names an unreadable file and says how to fix it, unless it is ignored', async () => {
    const dir = await make({ 'locked.txt': 'x', 'ok.txt': '' });
    await chmod(join(dir, 'locked.txt'), 0);
    const error = await scanSource(dir).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as SourceError).message).toBe(`Cannot read ${JSON.stringify(join(dir, 'locked.txt'))}: permission denied`);
    expect((error as SourceError).hint).toMatch(/permissions.*\.deployrignore/);

    await writeFile(join(dir, '.deployrignore'), 'locked.txt\n');
    expect(filePaths(await scanSource(dir))).toEqual(['.deployrignore', 'ok.txt']);
  });

  it.skipIf(isRoot)('names an unreadable directory', async () => {
    const dir = await make({ 'private/x.txt': '' });
    await chmod(join(dir, 'private'), 0);
    try {
      await expect(scanSource(dir)).rejects.toThrow(`Cannot read ${JSON.stringify(join(dir, 'private'))}: permission denied`);
    } finally {
      await chmod(join(dir, 'private'), 0o755); // so afterAll can remove it
    }
  });

  it('rejects with the signal\'s reason, before and during the scan', async () => {
    const dir = await make(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`d${i % 4}/f${i}`, 'x'])));
    const early = new Error('stopped early');
    await expect(scanSource(dir, { signal: AbortSignal.abort(early) })).rejects.toBe(early);

    // While walking: abort as soon as the scan has started.
    const walking = new AbortController();
    const duringWalk = scanSource(dir, { signal: walking.signal });
    walking.abort(new Error('stopped walking'));
    await expect(duringWalk).rejects.toThrow('stopped walking');

    // While hashing: abort when the first file is opened.
    const hashing = new AbortController();
    const reason = new Error('stopped hashing');
    let opened = 0;
    reads.onOpen = () => {
      opened++;
      hashing.abort(reason);
    };
    try {
      await expect(scanSource(dir, { signal: hashing.signal })).rejects.toBe(reason);
    } finally {
      reads.onOpen = undefined;
    }
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThan(40);
  });
});

describe('gitInfo', () => {
  it('gives the commit and branch of a clean work tree', async () => {
    const dir = await gitRepo({ 'app.js': 'v1', '.gitignore': 'node_modules/\n' });
    commitAll(dir);
    await mkdir(join(dir, 'node_modules'));
    await writeFile(join(dir, 'node_modules', 'dep.js'), 'ignored, so still clean');
    expect(await gitInfo(dir)).toEqual({ commit: git(dir, 'rev-parse', 'HEAD').trim(), ref: 'main', dirty: false });
  });

  it('reports a modified or an untracked file as dirty', async () => {
    const dir = await gitRepo({ 'app.js': 'v1' });
    commitAll(dir);
    await writeFile(join(dir, 'app.js'), 'v2');
    expect(await gitInfo(dir)).toMatchObject({ ref: 'main', dirty: true });
    git(dir, 'checkout', '-q', '--', 'app.js');
    expect(await gitInfo(dir)).toMatchObject({ dirty: false });
    await writeFile(join(dir, 'new.js'), '');
    expect(await gitInfo(dir)).toMatchObject({ dirty: true });
  });

  it('looks only at the source directory when it is part of a larger repository', async () => {
    const dir = await gitRepo({ 'web/app.js': 'v1', 'api/server.js': 'v1' });
    git(dir, 'checkout', '-q', '-b', 'feature/x');
    commitAll(dir);
    await writeFile(join(dir, 'api/server.js'), 'v2');
    expect(await gitInfo(join(dir, 'web'))).toEqual({ commit: git(dir, 'rev-parse', 'HEAD').trim(), ref: 'feature/x', dirty: false });
    expect(await gitInfo(join(dir, 'api'))).toMatchObject({ dirty: true });
  });

  it('leaves out ref on a detached HEAD', async () => {
    const dir = await gitRepo({ 'app.js': 'v1' });
    commitAll(dir);
    git(dir, 'checkout', '-q', '--detach');
    const info = await gitInfo(dir);
    expect(info).toEqual({ commit: git(dir, 'rev-parse', 'HEAD').trim(), dirty: false });
    expect(info).not.toHaveProperty('ref');
  });

  it('gives undefined outside a repository, in one without commits, and for a missing directory', async () => {
    const plain = await make({ 'app.js': '' });
    expect(() => git(plain, 'rev-parse', '--git-dir')).toThrow(); // the temp dir really is outside any repository
    expect(await gitInfo(plain)).toBeUndefined();
    expect(await gitInfo(await gitRepo({ 'app.js': '' }))).toBeUndefined();
    expect(await gitInfo(join(base, 'no-such-dir'))).toBeUndefined();
  });

  it('rejects with the signal\'s reason', async () => {
    const dir = await gitRepo({ 'app.js': 'v1' });
    commitAll(dir);
    const reason = new Error('stop');
    await expect(gitInfo(dir, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});

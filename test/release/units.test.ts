// The pure parts of releases: what to send and remove, reading a host's
// listing and state, what to prune, what to roll back to, drift and the
// status table, manifests and lock holders. Command builders are pinned by
// exact string (STYLE.md habit 13) and then run for real through `sh` in a
// temp directory, so a string that reads right but does the wrong thing fails.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from '../../core/command/index.js';
import type { ResolvedEnvironment } from '../../core/config/resolved.js';
import { Host, LocalConnection } from '../../core/connection/index.js';
import { ConfigError, ReleaseError, type LockHolder } from '../../core/errors.js';
import { diffRelease } from '../../core/release/diff.js';
import { formatStatus } from '../../core/release/format-status.js';
import { describeHolder, lockHolderFor, parseLockHolder } from '../../core/release/lock-file.js';
import { createManifest, parseManifest } from '../../core/release/manifest.js';
import { pruneCommand, releasesToPrune } from '../../core/release/prune.js';
import { listRelease, parseListing, type RemoteListing } from '../../core/release/remote-listing.js';
import { parseReleaseState, readReleaseState, type HostReleaseState } from '../../core/release/remote-state.js';
import { chooseTarget } from '../../core/release/rollback-tasks.js';
import { linkSharedCommand, sharedEntries } from '../../core/release/shared-links.js';
import type { SourceTree } from '../../core/release/source/index.js';
import { findDrift, type HostStatus } from '../../core/release/status.js';
import { removeReleaseCommand, switchCommand, unswitchCommand } from '../../core/release/switch.js';
import { formatBytes } from '../../core/util/quantities.js';

/** A release id of our format for day `n` of January 2026: later n, newer release. */
const id = (n: number, tag = 'abcd'): string => `202601${String(n).padStart(2, '0')}T120000000Z-${tag}`;
const R1 = id(1);
const R2 = id(2);
const R3 = id(3);
const R4 = id(4);
const R5 = id(5);
const hash = (text: string): string => createHash('sha256').update(text).digest('hex');

type FileSpec = readonly [size: number, mode: number, sha256: string];

function tree(files: Record<string, FileSpec>, dirs: Record<string, number> = {}, symlinks: Record<string, string> = {}): SourceTree {
  const fileMap = new Map(Object.entries(files).map(([path, [size, mode, sha256]]) => [path, { path, size, mode, sha256 }] as const));
  return {
    root: '/src',
    files: fileMap,
    dirs: new Map(Object.entries(dirs)),
    symlinks: new Map(Object.entries(symlinks)),
    skipped: [],
    bytes: [...fileMap.values()].reduce((sum, file) => sum + file.size, 0),
  };
}

function listing(files: Record<string, readonly [mode: number, sha256: string]>, dirs: Record<string, number> = {}): RemoteListing {
  return {
    files: new Map(Object.entries(files).map(([path, [mode, sha256]]) => [path, { mode, sha256 }] as const)),
    dirs: new Map(Object.entries(dirs)),
  };
}

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'deployr-release-units-'));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Runs a command as a host would: rendered once, through sh, inside `cwd` (deployTo). */
function sh(command: Command, cwd: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sh', ['-c', command.render()], { cwd, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A deployTo with releases/<id>/ for each id; those in `complete` get a manifest. */
function deployTo(ids: readonly string[], complete: readonly string[] = ids): string {
  const dir = tempDir();
  for (const release of ids) {
    mkdirSync(join(dir, 'releases', release), { recursive: true });
    writeFileSync(join(dir, 'releases', release, 'app.txt'), `app ${release}\n`);
    if (complete.includes(release)) writeFileSync(join(dir, 'releases', release, '.deployr-release.json'), '{}\n');
  }
  return dir;
}

describe('diffRelease', () => {
  const MANIFEST = '.deployr-release.json';

  it('first release: sends every dir, file and symlink, parents first, and removes only the excluded paths', () => {
    const source = tree(
      { 'z.txt': [3, 0o644, hash('z')], 'lib/x.js': [10, 0o644, hash('x')], 'lib/sub/y.js': [5, 0o755, hash('y')] },
      { lib: 0o755, 'lib/sub': 0o755 },
      { 'a-link': 'z.txt' },
    );
    const diff = diffRelease(source, undefined, [MANIFEST]);
    expect(diff).toEqual({
      remove: [MANIFEST],
      send: ['a-link', 'lib', 'lib/sub', 'lib/sub/y.js', 'lib/x.js', 'z.txt'],
      sentFiles: 3,
      sentBytes: 18,
      unchangedFiles: 0,
    });
  });

  it('over a previous release: new, changed and mode-changed files, removed ones, dirs replaced by files and files by dirs, excluded paths', () => {
    const previous = listing(
      {
        'same.txt': [0o644, hash('same')],
        'changed.txt': [0o644, hash('old content')],
        'chmod.sh': [0o644, hash('script')],
        'gone.txt': [0o644, hash('gone')],
        'old/x': [0o644, hash('x')],
        'old/deep/y': [0o644, hash('y')],
        'swap-to-file/inner': [0o644, hash('inner')],
        'swap-to-dir': [0o644, hash('was a file')],
        [MANIFEST]: [0o644, hash('{}')],
        'storage/log': [0o644, hash('log')],
        'lib/keep.js': [0o644, hash('keep')],
        'modedir/f': [0o644, hash('f')],
      },
      { lib: 0o755, old: 0o755, 'old/deep': 0o755, 'swap-to-file': 0o755, storage: 0o755, modedir: 0o755 },
    );
    const source = tree(
      {
        'same.txt': [4, 0o644, hash('same')],
        'changed.txt': [7, 0o644, hash('new content')],
        'chmod.sh': [5, 0o755, hash('script')],
        'new.txt': [11, 0o644, hash('new')],
        'swap-to-file': [2, 0o644, hash('now a file')],
        'swap-to-dir/inner': [1, 0o644, hash('i')],
        'lib/keep.js': [4, 0o644, hash('keep')],
        'modedir/f': [1, 0o644, hash('f')],
        'storage/a': [100, 0o644, hash('a')],
        '.env': [50, 0o600, hash('env')],
      },
      { lib: 0o755, 'swap-to-dir': 0o755, modedir: 0o700, storage: 0o755 },
      { 'lib/link': 'keep.js' },
    );
    const diff = diffRelease(source, previous, [MANIFEST, 'storage', '.env']);
    // Contents of a removed directory (old/*, swap-to-file/inner, storage/log) go with it; '.env' was not in the copy but is cleared anyway.
    expect(diff.remove).toEqual([MANIFEST, '.env', 'changed.txt', 'chmod.sh', 'gone.txt', 'old', 'storage', 'swap-to-dir', 'swap-to-file']);
    // Unchanged files (same.txt, lib/keep.js, modedir/f) and excluded ones (storage/a, .env) are not sent; the symlink always is.
    expect(diff.send).toEqual(['changed.txt', 'chmod.sh', 'lib/link', 'modedir', 'new.txt', 'swap-to-dir', 'swap-to-dir/inner', 'swap-to-file']);
    expect(diff.sentFiles).toBe(5);
    expect(diff.sentBytes).toBe(7 + 5 + 11 + 2 + 1);
    expect(diff.unchangedFiles).toBe(3);
  });

  it('nothing changed: sends only the symlinks, removes only the excluded paths', () => {
    const source = tree({ 'a.txt': [1, 0o644, hash('a')], 'd/b.txt': [2, 0o600, hash('b')] }, { d: 0o750 }, { l: 'a.txt' });
    const previous = listing({ 'a.txt': [0o644, hash('a')], 'd/b.txt': [0o600, hash('b')], [MANIFEST]: [0o644, hash('{}')] }, { d: 0o750 });
    expect(diffRelease(source, previous, [MANIFEST])).toEqual({ remove: [MANIFEST], send: ['l'], sentFiles: 0, sentBytes: 0, unchangedFiles: 2 });
  });

  it('a file whose hash is unknown on the host (not hashed there) is sent again', () => {
    const source = tree({ 'a.txt': [1, 0o644, hash('a')] });
    const diff = diffRelease(source, listing({ 'a.txt': [0o644, ''] }), []);
    expect(diff).toMatchObject({ remove: ['a.txt'], send: ['a.txt'], sentFiles: 1, unchangedFiles: 0 });
  });

  it('a shared path below a kept directory is excluded exactly: a sibling with the same prefix is still compared', () => {
    const source = tree({ 'config/app.yml': [1, 0o644, hash('1')], 'config/app.yml.dist': [3, 0o644, hash('dist')] }, { config: 0o755 });
    const previous = listing({ 'config/app.yml.dist': [0o644, hash('old dist')] }, { config: 0o755 });
    const diff = diffRelease(source, previous, ['config/app.yml']);
    expect(diff.remove).toEqual(['config/app.yml', 'config/app.yml.dist']);
    expect(diff.send).toEqual(['config/app.yml.dist']);
  });
});

describe('parseListing', () => {
  it('reads modes and hashes, skips the release dir itself, leaves unhashed files with an empty hash', () => {
    const stdout = [
      'd 755 .',
      'd 755 ./lib',
      'd 700 ./my dir',
      'm 644 ./a.txt',
      'm 755 ./lib/run.sh',
      'm 644 ./my dir/b\\c.txt',
      'm 600 ./node_modules.bin',
      `${hash('a')}  ./a.txt`,
      `${hash('run')} *./lib/run.sh`,
      // GNU sha256sum escapes a backslash in a name and marks the line with a leading backslash.
      `\\${hash('b')}  ./my dir/b\\\\c.txt`,
      '',
    ].join('\n');
    const parsed = parseListing(stdout);
    expect(parsed.dirs).toEqual(new Map([['lib', 0o755], ['my dir', 0o700]]));
    expect(parsed.files).toEqual(
      new Map([
        ['a.txt', { mode: 0o644, sha256: hash('a') }],
        ['lib/run.sh', { mode: 0o755, sha256: hash('run') }],
        ['my dir/b\\c.txt', { mode: 0o644, sha256: hash('b') }],
        ['node_modules.bin', { mode: 0o600, sha256: '' }],
      ]),
    );
  });

  it('reads a name holding \\r, which coreutils 9 sha256sum escapes like \\\\ and \\n', () => {
    const stdout = ['m 644 ./car\rriage', `\\${hash('r')}  ./car\\rriage`].join('\n');
    const parsed = parseListing(stdout);
    expect(parsed.files.get('car\rriage')).toEqual({ mode: 0o644, sha256: hash('r') });
  });

  it('an unescaped line (BusyBox) keeps its backslashes', () => {
    const parsed = parseListing(['m 644 ./x\\n', `${hash('x')}  ./x\\n`].join('\n'));
    expect(parsed.files.get('x\\n')).toEqual({ mode: 0o644, sha256: hash('x') });
  });

  it('lists a real release through sh: hostile names, hashes only where asked, symlinks not listed', async () => {
    const root = tempDir();
    const release = join(root, 'releases', R1);
    const names = ['plain.txt', 'back\\slash.txt', 'car\rriage.txt', 'line\u2028sep.txt', "sp ace 'q'.txt", '-dash.txt', 'sub dir/deep.txt'];
    mkdirSync(join(release, 'sub dir'), { recursive: true });
    for (const name of names) writeFileSync(join(release, name), `content of ${name}`, { mode: 0o640 });
    writeFileSync(join(release, 'built.bin'), 'not hashed', { mode: 0o755 });
    symlinkSync('plain.txt', join(release, 'link'));
    const host = new Host(new LocalConnection({ name: 'units' }));
    const result = await listRelease(host, root, `releases/${R1}`, names);
    expect(result.dirs).toEqual(new Map([['sub dir', 0o755]]));
    const expected = new Map<string, { mode: number; sha256: string }>(names.map((name) => [name, { mode: 0o640, sha256: hash(`content of ${name}`) }]));
    expected.set('built.bin', { mode: 0o755, sha256: '' });
    expect(new Map([...result.files].sort(([a], [b]) => (a < b ? -1 : 1)))).toEqual(new Map([...expected].sort(([a], [b]) => (a < b ? -1 : 1))));
  });
});

describe('parseReleaseState', () => {
  it('a host without deployTo', () => {
    expect(parseReleaseState('')).toEqual({ exists: false, releases: [] });
  });

  it('current, releases oldest first with their completeness, foreign directory names ignored', () => {
    const stdout = ['exists', `current releases/${R2}`, `release ${R2} complete`, `release ${R1} incomplete`, 'release backup-old complete', `release ${R3} complete`, ''].join('\n');
    expect(parseReleaseState(stdout)).toEqual({
      exists: true,
      current: R2,
      releases: [
        { id: R1, complete: false },
        { id: R2, complete: true },
        { id: R3, complete: true },
      ],
    });
  });

  it('accepts ./releases/<id>/ as current', () => {
    expect(parseReleaseState(`exists\ncurrent ./releases/${R1}/\n`).current).toBe(R1);
  });

  it('a current that is not one of our releases is reported as its target', () => {
    expect(parseReleaseState('exists\ncurrent /opt/by-hand\n')).toEqual({ exists: true, currentTarget: '/opt/by-hand', releases: [] });
    expect(parseReleaseState('exists\ncurrent releases/not-an-id\n')).toEqual({ exists: true, currentTarget: 'releases/not-an-id', releases: [] });
    expect(parseReleaseState('exists\ncurrent \n')).toEqual({ exists: true, releases: [] });
  });

  it('reads the lock holder; a lock that is not ours is unreadable', () => {
    const holder: LockHolder = { user: 'alice', machine: 'laptop', pid: 42, since: '2026-01-01T12:00:00.000Z', runId: R1, task: 'deploy', environment: 'prod' };
    expect(parseReleaseState(`exists\ncurrent \nlock ${JSON.stringify(holder)}\n`).lock).toEqual(holder);
    expect(parseReleaseState('exists\ncurrent \nlock locked by bob\n').lock).toBe('unreadable');
    expect(parseReleaseState('exists\ncurrent \nlock {"user":"bob"}\n').lock).toBe('unreadable');
    expect(parseReleaseState('exists\ncurrent \n')).not.toHaveProperty('lock');
  });

  it('reads a real deployTo through sh', async () => {
    const dir = deployTo([R1, R2, R3], [R1, R2]);
    mkdirSync(join(dir, 'releases', 'not-a-release'));
    writeFileSync(join(dir, 'releases', 'stray-file'), '');
    symlinkSync(`releases/${R2}`, join(dir, 'current'));
    mkdirSync(join(dir, '.deployr'));
    const holder: LockHolder = { user: 'bob', machine: 'ci', pid: 7, since: '2026-01-03T12:00:00.000Z', runId: R3, task: 'deploy', environment: 'prod' };
    writeFileSync(join(dir, '.deployr', 'lock.json'), `${JSON.stringify(holder, null, 2)}\n`);
    const host = new Host(new LocalConnection({ name: 'units' }));
    expect(await readReleaseState(host, dir)).toEqual({
      exists: true,
      current: R2,
      releases: [
        { id: R1, complete: true },
        { id: R2, complete: true },
        { id: R3, complete: false },
      ],
      lock: holder,
    });
    expect(await readReleaseState(host, join(dir, 'missing'))).toEqual({ exists: false, releases: [] });
  });
});

describe('releasesToPrune', () => {
  const state = (current: string | undefined, releases: Array<[string, boolean]>): HostReleaseState => ({
    exists: true,
    ...(current === undefined ? {} : { current }),
    releases: releases.map(([release, complete]) => ({ id: release, complete })),
  });
  const all = [R1, R2, R3, R4, R5].map((r): [string, boolean] => [r, true]);

  it('keeps the newest N complete releases', () => {
    expect(releasesToPrune(state(R5, all), 3)).toEqual([R1, R2]);
    expect(releasesToPrune(state(R5, all), 5)).toEqual([]);
    expect(releasesToPrune(state(undefined, all), 2)).toEqual([R1, R2, R3]);
  });

  it('always keeps current, even when it is the oldest (after a rollback); it counts toward N', () => {
    expect(releasesToPrune(state(R1, all), 2)).toEqual([R2, R3, R4]);
    expect(releasesToPrune(state(R1, all), 1)).toEqual([R2, R3, R4, R5]);
  });

  it('keeps protected releases', () => {
    expect(releasesToPrune(state(R5, all), 3, [R1])).toEqual([R2, R3]);
  });

  it('removes incomplete releases, whatever their age', () => {
    const releases: Array<[string, boolean]> = [[R1, true], [R2, false], [R3, true], [R4, true], [R5, false]];
    expect(releasesToPrune(state(R4, releases), 5)).toEqual([R2, R5]);
    expect(releasesToPrune(state(R4, releases), 2)).toEqual([R1, R2, R5]);
  });
});

describe('chooseTarget', () => {
  const env = { name: 'prod' } as ResolvedEnvironment;
  const ctx = (params: Record<string, unknown> = {}, dryRun = false) => ({ params, environment: env, dryRun });
  const host = (current: string | undefined, releases: Array<[string, boolean]>): HostReleaseState => ({
    exists: true,
    ...(current === undefined ? {} : { current }),
    releases: releases.map(([release, complete]) => ({ id: release, complete })),
  });
  const complete = (...ids: string[]): Array<[string, boolean]> => ids.map((r) => [r, true]);

  it('by default: the newest release older than the newest current that every host has complete', () => {
    const states = new Map([
      ['a', host(R3, complete(R1, R2, R3))],
      ['b', host(R3, complete(R1, R2, R3))],
    ]);
    expect(chooseTarget(ctx(), states)).toBe(R2);
  });

  it('skips a release that one host has incomplete or not at all', () => {
    expect(
      chooseTarget(
        ctx(),
        new Map([
          ['a', host(R4, complete(R1, R2, R3, R4))],
          ['b', host(R4, [[R1, true], [R2, true], [R3, false], [R4, true]])],
          ['c', host(R4, complete(R1, R3, R4))],
        ]),
      ),
    ).toBe(R1);
  });

  it('measures from the newest current when hosts differ', () => {
    const states = new Map([
      ['a', host(R3, complete(R1, R2, R3))],
      ['b', host(R2, complete(R1, R2, R3))],
    ]);
    expect(chooseTarget(ctx(), states)).toBe(R2);
  });

  it('nothing older everywhere, or nothing current anywhere: ReleaseError', () => {
    const lonely = new Map([
      ['a', host(R2, complete(R1, R2))],
      ['b', host(R2, complete(R2))],
    ]);
    expect(() => chooseTarget(ctx(), lonely)).toThrow(ReleaseError);
    expect(() => chooseTarget(ctx(), lonely)).toThrow(`No release older than ${R2} is complete on every host of prod; no host was switched`);
    const none = new Map([
      ['a', host(undefined, complete(R1))],
      ['b', { exists: false, releases: [] }],
    ]);
    expect(() => chooseTarget(ctx(), none)).toThrow(ReleaseError);
    expect(() => chooseTarget(ctx(), none)).toThrow('No host of prod has a current release to roll back from');
  });

  it('--to: returned when every host has it complete, even if it is newer than current', () => {
    const states = new Map([
      ['a', host(R2, complete(R1, R2, R3))],
      ['b', host(R2, complete(R1, R2, R3))],
    ]);
    expect(chooseTarget(ctx({ to: R1 }), states)).toBe(R1);
    expect(chooseTarget(ctx({ to: R3 }), states)).toBe(R3);
    expect(chooseTarget(ctx({ to: '' }), states)).toBe(R1); // empty --to: the default
  });

  it('--to that is missing or incomplete on some hosts: ReleaseError naming them', () => {
    const states = new Map([
      ['a', host(R3, complete(R1, R2, R3))],
      ['b', host(R3, complete(R2, R3))],
      ['c', host(R3, [[R1, false], [R3, true]])],
    ]);
    let error: unknown;
    try {
      chooseTarget(ctx({ to: R1 }), states);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ReleaseError);
    expect((error as ReleaseError).message).toBe(`Cannot roll back to ${R1}: it is missing or incomplete on b, c; no host was switched`);
    expect((error as ReleaseError).hint).toBe('pick a release every host has: deployr status prod');
  });

  it('--to that is not a release id: ConfigError, before looking at hosts', () => {
    expect(() => chooseTarget(ctx({ to: '../../etc' }), new Map())).toThrow(ConfigError);
    expect(() => chooseTarget(ctx({ to: 'yesterday' }), new Map())).toThrow('--to yesterday is not a release id');
    expect(() => chooseTarget(ctx({ to: 'yesterday' }, true), new Map())).toThrow(ConfigError);
  });

  it('--dry-run reads no hosts: --to is taken as given, the default is described', () => {
    expect(chooseTarget(ctx({ to: R1 }, true), new Map())).toBe(R1);
    expect(chooseTarget(ctx({}, true), new Map())).toBe('(the previous release)');
  });
});

describe('findDrift and formatStatus', () => {
  const status = (host: string, current: string | undefined, extra: Partial<HostStatus> = {}): HostStatus => ({
    host,
    deployed: true,
    ...(current === undefined ? {} : { current }),
    releases: [],
    ...extra,
  });

  it('findDrift: the release most hosts are on; the rest drifted', () => {
    expect(findDrift([status('a', R3), status('b', R2), status('c', R3)])).toEqual({ expected: R3, drifted: ['b'] });
    expect(findDrift([status('a', R3), status('b', R3)])).toEqual({ expected: R3, drifted: [] });
    expect(findDrift([])).toEqual({ drifted: [] });
  });

  it('findDrift: a tie goes to the newest release; a hand-made current counts as what it points at', () => {
    expect(findDrift([status('a', R2), status('b', R3)])).toEqual({ expected: R3, drifted: ['a'] });
    expect(findDrift([status('a', R2), status('b', undefined, { currentTarget: '/opt/x' }), status('c', undefined, { currentTarget: '/opt/x' })])).toEqual({
      expected: '/opt/x',
      drifted: ['a'],
    });
  });

  it('formatStatus: table, drift, modified files, unfinished releases, locks, release lists', () => {
    const holder: LockHolder = { user: 'alice', machine: 'laptop', pid: 42, since: '2026-01-03T12:00:00.000Z', runId: R3, task: 'deploy', environment: 'prod' };
    const text = formatStatus('prod', [
      status('web-1', R2, {
        releases: [
          { id: R1, complete: true },
          { id: R2, complete: true },
          { id: R3, complete: false },
        ],
        commit: '0123456789abcdef0123',
        ref: 'main',
        modified: { changed: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], missing: ['x'] },
        lock: holder,
      }),
      status('web-2', R1, { releases: [{ id: R1, complete: true }, { id: R2, complete: true }] }),
      status('web-3', R2, { releases: [{ id: R1, complete: true }, { id: R2, complete: true }], lock: 'unreadable', modified: { changed: [], missing: [] } }),
      status('db', undefined, { currentTarget: '/opt/manual' }),
      { host: 'new', deployed: false, releases: [] },
    ]);
    expect(text).toBe(
      [
        'prod: 5 hosts',
        'HOST   CURRENT                   RELEASES  COMMIT               LOCK',
        `web-1  ${R2}  2         0123456789ab (main)  locked`,
        `web-2  ${R1}  2         -                    -`,
        `web-3  ${R2}  2         -                    locked`,
        'db     → /opt/manual             0         -                    -',
        'new    (not deployed)            0         -                    -',
        '',
        `drift: web-2, db, new are not on ${R2} like the other hosts`,
        "drift: web-1's current release was modified on the host since it was deployed: changed a, b, c, d, e and 2 more; missing x",
        `web-1: 1 unfinished release(s) (${R3}), removed by the next deploy`,
        `lock on web-1: alice@laptop (pid 42), since 2026-01-03T12:00:00.000Z, running "deploy" (run ${R3})`,
        'lock on web-3: an unknown holder (the lock file is not readable as a deployr lock)',
        `web-1 releases: ${R1}, ${R2} (current), ${R3} (unfinished)`,
        `web-2 releases: ${R1} (current), ${R2}`,
        `web-3 releases: ${R1}, ${R2} (current)`,
        '',
      ].join('\n'),
    );
  });

  it('formatStatus: one quiet host', () => {
    expect(formatStatus('staging', [status('one', undefined)])).toBe(
      ['staging: 1 host', 'HOST  CURRENT  RELEASES  COMMIT  LOCK', 'one   (none)   0         -       -', '', 'lock: free', ''].join('\n'),
    );
  });
});

describe('shared links', () => {
  it('sharedEntries: a trailing slash makes a directory', () => {
    expect(sharedEntries(['storage/', '.env', 'config/app.yml', 'cache//'])).toEqual([
      { path: 'storage', dir: true },
      { path: '.env', dir: false },
      { path: 'config/app.yml', dir: false },
      { path: 'cache', dir: true },
    ]);
    expect(sharedEntries(undefined)).toEqual([]);
  });

  it('linkSharedCommand: exact commands, relative link targets; nothing to link → undefined', () => {
    const command = linkSharedCommand(R1, sharedEntries(['storage/', '.env', 'config/app.yml']));
    expect(command?.render()).toBe(
      [
        'mkdir -p -- shared/storage',
        `rm -rf -- releases/${R1}/storage`,
        `mkdir -p -- releases/${R1}`,
        `ln -s -- ../../shared/storage releases/${R1}/storage`,
        'mkdir -p -- shared && if [ ! -e shared/.env ]; then : > shared/.env; fi',
        `rm -rf -- releases/${R1}/.env`,
        `mkdir -p -- releases/${R1}`,
        `ln -s -- ../../shared/.env releases/${R1}/.env`,
        'mkdir -p -- shared/config && if [ ! -e shared/config/app.yml ]; then : > shared/config/app.yml; fi',
        `rm -rf -- releases/${R1}/config/app.yml`,
        `mkdir -p -- releases/${R1}/config`,
        `ln -s -- ../../../shared/config/app.yml releases/${R1}/config/app.yml`,
      ].join(' && '),
    );
    expect(linkSharedCommand(R1, [])).toBeUndefined();
    expect(linkSharedCommand(R1, sharedEntries(["it's data/"]))?.render()).toBe(
      [
        "mkdir -p -- 'shared/it'\\''s data'",
        `rm -rf -- 'releases/${R1}/it'\\''s data'`,
        `mkdir -p -- releases/${R1}`,
        `ln -s -- '../../shared/it'\\''s data' 'releases/${R1}/it'\\''s data'`,
      ].join(' && '),
    );
  });

  it('links resolve to shared/, replace what the release shipped there, keep an existing shared file; running it again changes nothing', () => {
    const dir = deployTo([R1]);
    const release = join(dir, 'releases', R1);
    mkdirSync(join(release, 'storage'));
    writeFileSync(join(release, 'storage', 'shipped.log'), 'from the release');
    writeFileSync(join(release, '.env'), 'SHIPPED=1\n');
    mkdirSync(join(dir, 'shared'));
    writeFileSync(join(dir, 'shared', '.env'), 'SECRET=kept\n');
    const command = linkSharedCommand(R1, sharedEntries(['storage/', '.env', 'config/app.yml', "it's data/"])) as Command;
    const readlinkF = (path: string): string => (spawnSync('readlink', ['-f', path], { cwd: dir, encoding: 'utf8' }).stdout as string).trim();
    for (const attempt of [1, 2]) {
      expect(sh(command, dir), `attempt ${attempt}`).toEqual({ code: 0, stdout: '', stderr: '' });
      const shared = realpathSync(join(dir, 'shared'));
      for (const path of ['storage', '.env', 'config/app.yml', "it's data"]) {
        expect(lstatSync(join(release, path)).isSymbolicLink(), path).toBe(true);
        expect(readlinkF(`releases/${R1}/${path}`)).toBe(join(shared, path));
      }
      expect(readlinkSync(join(release, 'config/app.yml'))).toBe('../../../shared/config/app.yml');
      expect(lstatSync(join(dir, 'shared', 'storage')).isDirectory()).toBe(true);
      expect(lstatSync(join(dir, 'shared', "it's data")).isDirectory()).toBe(true);
      expect(readFileSync(join(release, '.env'), 'utf8')).toBe('SECRET=kept\n');
      expect(readFileSync(join(dir, 'shared', 'config', 'app.yml'), 'utf8')).toBe('');
      expect(existsSync(join(dir, 'shared', 'storage', 'shipped.log'))).toBe(false);
    }
  });
});

describe('switch, remove, prune commands', () => {
  const NEXT = 'current.deployr-next';

  it('switchCommand: exact command', () => {
    expect(switchCommand(R2).render()).toBe(
      `if [ ! -f releases/${R2}/.deployr-release.json ]; then echo 'release ${R2} is missing or incomplete here' >&2; exit 1; fi` +
        ` && rm -f ${NEXT} && ln -s releases/${R2} ${NEXT} && mv -T -f ${NEXT} current`,
    );
  });

  it('switchCommand: points current at the release by replacing the link, leaving no next link behind', () => {
    const dir = deployTo([R1, R2]);
    expect(sh(switchCommand(R1), dir).code).toBe(0);
    expect(readlinkSync(join(dir, 'current'))).toBe(`releases/${R1}`);
    // A next link left by an interrupted switch is replaced, not followed.
    symlinkSync(`releases/${R1}`, join(dir, NEXT));
    expect(sh(switchCommand(R2), dir)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(lstatSync(join(dir, 'current')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'current'))).toBe(`releases/${R2}`);
    expect(readFileSync(join(dir, 'current', 'app.txt'), 'utf8')).toBe(`app ${R2}\n`);
    expect(existsSync(join(dir, NEXT))).toBe(false);
    // Without -T, mv would have moved the new link into the directory current pointed at.
    expect(existsSync(join(dir, 'releases', R1, NEXT))).toBe(false);
    expect(existsSync(join(dir, 'releases', R1, 'current'))).toBe(false);
  });

  it('switchCommand: refuses an incomplete or missing release and leaves current as it was', () => {
    const dir = deployTo([R1, R2], [R1]);
    expect(sh(switchCommand(R1), dir).code).toBe(0);
    expect(sh(switchCommand(R2), dir)).toEqual({ code: 1, stdout: '', stderr: `release ${R2} is missing or incomplete here\n` });
    expect(sh(switchCommand(R3), dir)).toEqual({ code: 1, stdout: '', stderr: `release ${R3} is missing or incomplete here\n` });
    expect(readlinkSync(join(dir, 'current'))).toBe(`releases/${R1}`);
    expect(existsSync(join(dir, NEXT))).toBe(false);
  });

  it('removeReleaseCommand: exact command; removes a release, never the current one', () => {
    expect(removeReleaseCommand(R1).render()).toBe(
      `if [ "$(readlink current 2>/dev/null)" != releases/${R1} ]; then rm -f releases/${R1}/.deployr-release.json; rm -rf -- releases/${R1}; fi`,
    );
    const dir = deployTo([R1, R2]);
    // No current at all: removable.
    expect(sh(removeReleaseCommand(R2), dir).code).toBe(0);
    expect(existsSync(join(dir, 'releases', R2))).toBe(false);
    symlinkSync(`releases/${R1}`, join(dir, 'current'));
    expect(sh(removeReleaseCommand(R1), dir).code).toBe(0);
    expect(readFileSync(join(dir, 'releases', R1, '.deployr-release.json'), 'utf8')).toBe('{}\n');
    expect(readFileSync(join(dir, 'current', 'app.txt'), 'utf8')).toBe(`app ${R1}\n`);
  });

  it('unswitchCommand: removes current only when it points at the release', () => {
    expect(unswitchCommand(R1).render()).toBe(`if [ "$(readlink current)" = releases/${R1} ]; then rm -f current; fi`);
    const dir = deployTo([R1, R2]);
    symlinkSync(`releases/${R2}`, join(dir, 'current'));
    expect(sh(unswitchCommand(R1), dir).code).toBe(0);
    expect(readlinkSync(join(dir, 'current'))).toBe(`releases/${R2}`);
    expect(sh(unswitchCommand(R2), dir).code).toBe(0);
    expect(existsSync(join(dir, 'current'))).toBe(false);
    expect(existsSync(join(dir, 'releases', R2, 'app.txt'))).toBe(true);
  });

  it('pruneCommand: exact command, manifests first; removes exactly the given releases', () => {
    expect(pruneCommand([R1, R2])?.render()).toBe(
      `rm -f releases/${R1}/.deployr-release.json releases/${R2}/.deployr-release.json && rm -rf -- releases/${R1} releases/${R2}`,
    );
    expect(pruneCommand([])).toBeUndefined();
    const dir = deployTo([R1, R2, R3], [R1, R3]);
    expect(sh(pruneCommand([R1, R2]) as Command, dir)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(join(dir, 'releases', R1))).toBe(false);
    expect(existsSync(join(dir, 'releases', R2))).toBe(false);
    expect(existsSync(join(dir, 'releases', R3, '.deployr-release.json'))).toBe(true);
  });
});

describe('manifest', () => {
  const input = {
    id: R1,
    app: 'shop',
    environment: 'prod',
    host: 'web-1',
    tree: tree({ 'a.txt': [1, 0o644, hash('a')], 'lib/b.js': [2, 0o755, hash('b')] }, { lib: 0o755 }, { l: 'a.txt' }),
    shared: ['.env', 'storage/'],
    source: { commit: 'f'.repeat(40), ref: 'main', dirty: false },
  };

  it('createManifest: every shipped file by hash, who and when', () => {
    const manifest = createManifest(input, new Date('2026-01-01T12:00:00.000Z'));
    expect(manifest).toEqual({
      format: 1,
      id: R1,
      app: 'shop',
      environment: 'prod',
      host: 'web-1',
      createdAt: '2026-01-01T12:00:00.000Z',
      deployedBy: { user: expect.any(String), machine: expect.any(String) },
      deployr: expect.stringMatching(/^\d+\.\d+\.\d+/),
      source: { commit: 'f'.repeat(40), ref: 'main', dirty: false },
      shared: ['.env', 'storage/'],
      files: { 'a.txt': hash('a'), 'lib/b.js': hash('b') },
    });
    expect(manifest.deployr).not.toBe('0.0.0'); // found deployr's own package.json
  });

  it('parseManifest: reads back what was written; anything else is undefined', () => {
    const manifest = createManifest(input);
    expect(parseManifest(`${JSON.stringify(manifest, null, 2)}\n`)).toEqual(manifest);
    expect(parseManifest('')).toBeUndefined();
    expect(parseManifest('null')).toBeUndefined();
    expect(parseManifest('{"format":2,"id":"x","files":{}}')).toBeUndefined();
    expect(parseManifest('{"format":1,"files":{}}')).toBeUndefined();
    expect(parseManifest('{"format":1,"id":"x","files":null}')).toBeUndefined();
    expect(parseManifest('{"format":1,"id":"x","files":{}}')).toEqual({ format: 1, id: 'x', files: {} });
  });
});

describe('lock holder', () => {
  const holder: LockHolder = { user: 'alice', machine: 'laptop', pid: 4242, since: '2026-11-21T11:43:23.000Z', runId: R1, task: 'deploy', environment: 'prod' };

  it('lockHolderFor: this process, now, this run', () => {
    const mine = lockHolderFor({ runId: R1, task: 'rollback', environment: 'prod' });
    expect(mine).toEqual({ user: expect.any(String), machine: expect.any(String), pid: process.pid, since: expect.any(String), runId: R1, task: 'rollback', environment: 'prod' });
    expect(Math.abs(Date.parse(mine.since) - Date.now())).toBeLessThan(60_000);
  });

  it('parseLockHolder: a holder record, or undefined', () => {
    expect(parseLockHolder(JSON.stringify(holder))).toEqual(holder);
    expect(parseLockHolder('{"user":"alice"}')).toBeUndefined();
    expect(parseLockHolder('{"runId":"x"}')).toBeUndefined();
    expect(parseLockHolder('null')).toBeUndefined();
    expect(parseLockHolder('pid 12')).toBeUndefined();
  });

  it('describeHolder: who, where, since when, doing what', () => {
    expect(describeHolder(holder)).toBe(`alice@laptop (pid 4242), since 2026-11-21T11:43:23.000Z, running "deploy" (run ${R1})`);
    expect(describeHolder('unreadable')).toBe('an unknown holder (the lock file is not readable as a deployr lock)');
    expect(describeHolder(undefined)).toBe('an unknown holder (the lock file is not readable as a deployr lock)');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [812, '812 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [12_697, '12.4 KiB'],
    [10 * 1024 ** 2, '10.0 MiB'],
    [3.5 * 1024 ** 3, '3.5 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
    [2048 * 1024 ** 4, '2048.0 TiB'],
  ])('%d → %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

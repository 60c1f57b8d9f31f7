// The git plugin without the fleet: exact commands, option checks, ref
// resolution, and the local pieces (export, dirty check) and the host
// commands run for real on this machine against real repositories.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigValidationError, Host, LocalConnection, createDeployr, type Logger } from 'deployr';
import { git } from '../../../plugins/git/index.js';
import { closeMatches } from '../../../plugins/git/close-matches.js';
import {
  cloneMirrorCommand,
  exportCommand,
  fetchMirrorCommand,
  gitEnv,
  gitSshCommand,
  hasCommitCommand,
  lsRemoteCommand,
  probeMirrorCommand,
  setMirrorUrlCommand,
} from '../../../plugins/git/commands.js';
import { archiveArgs, exportCommit, extractArgs } from '../../../plugins/git/local-export.js';
import { openRepo, resolveLocalRef, uncommittedChanges } from '../../../plugins/git/local-repo.js';
import { repositoryError, repositoryHost, syncMirror } from '../../../plugins/git/mirror.js';
import { optionsSchema, parseOptions } from '../../../plugins/git/options.js';
import { parseLsRemote, resolveRemoteRef } from '../../../plugins/git/remote-refs.js';
import { warnIgnoredSettings } from '../../../plugins/git/settings-warnings.js';
import { testRepo } from './git-repo.js';

const cleanup: string[] = [];
afterAll(() => cleanup.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const temp = (name: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), `deployr-gitunit-${name}-`));
  cleanup.push(dir);
  return dir;
};

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const T = 'd'.repeat(40);

describe('host commands (exact)', () => {
  it('GIT_SSH_COMMAND: batch mode and strict host keys always; deploy key and known_hosts quoted', () => {
    expect(gitSshCommand({})).toBe('ssh -o BatchMode=yes -o StrictHostKeyChecking=yes');
    expect(gitSshCommand({ sshKey: '~/.ssh/deploy key', knownHostsFile: '/etc/app/known_hosts' })).toBe(
      "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -i '~/.ssh/deploy key' -o IdentitiesOnly=yes -o UserKnownHostsFile=/etc/app/known_hosts",
    );
    expect(gitSshCommand({ knownHostsFile: "~/it's" })).toBe(`ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o 'UserKnownHostsFile=~/it'\\''s'`);
    expect(gitSshCommand({ sshKey: '/k' })).not.toContain('StrictHostKeyChecking=no');
    expect(gitEnv({ sshKey: '/k' })).toEqual({
      GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -i /k -o IdentitiesOnly=yes',
      GIT_TERMINAL_PROMPT: '0',
      LC_ALL: 'C',
    });
  });

  it('mirror, ref and export commands quote every value', () => {
    const url = 'git@example.com:me/app.git';
    expect(lsRemoteCommand(url).display()).toBe('git ls-remote --symref git@example.com:me/app.git');
    expect(probeMirrorCommand('repo').display()).toBe(
      "git --git-dir=repo config --get remote.origin.url && git --git-dir=repo for-each-ref '--format=%(objectname) %(refname)'",
    );
    expect(cloneMirrorCommand(url, 'shared/.git mirror').display()).toBe("git clone --mirror --quiet -- git@example.com:me/app.git 'shared/.git mirror'");
    expect(setMirrorUrlCommand('repo', 'https://x/$(id)').display()).toBe("git --git-dir=repo remote set-url origin 'https://x/$(id)'");
    expect(fetchMirrorCommand('/srv/app/repo').display()).toBe('git --git-dir=/srv/app/repo remote update --prune');
    expect(hasCommitCommand('repo', A).display()).toBe(`git --git-dir=repo cat-file -e '${A}^{commit}'`);
    expect(exportCommand('repo', A, 'releases/20261121T114323123Z-9f3a').display()).toBe(
      `git -c tar.umask=0022 --git-dir=repo archive --format=tar ${A} | tar -x -p --no-same-owner -f - -C releases/20261121T114323123Z-9f3a`,
    );
    expect(exportCommand('repo', A, 'releases/x', 'apps/web').display()).toBe(
      `git -c tar.umask=0022 --git-dir=repo archive --format=tar ${A} -- apps/web | tar -x -p --no-same-owner -f - -C releases/x --strip-components=2`,
    );
  });

  it('local export: argument arrays for git archive and tar (no shell)', () => {
    expect(archiveArgs('/r', A, '/t/source.tar', '')).toEqual(['-c', 'tar.umask=0022', '-C', '/r', 'archive', '--format=tar', '-o', '/t/source.tar', A]);
    expect(archiveArgs('/r', A, '/t/s.tar', 'apps/web')).toEqual(['-c', 'tar.umask=0022', '-C', '/r', 'archive', '--format=tar', '-o', '/t/s.tar', A, '--', 'apps/web']);
    expect(extractArgs('/t/s.tar', '/t/tree', '')).toEqual(['-x', '-p', '--no-same-owner', '-f', '/t/s.tar', '-C', '/t/tree']);
    expect(extractArgs('/t/s.tar', '/t/tree', 'apps/web')).toEqual(['-x', '-p', '--no-same-owner', '-f', '/t/s.tar', '-C', '/t/tree', '--strip-components=2']);
  });
});

describe('options', () => {
  const problems = (options: unknown): string[] => {
    try {
      parseOptions(options);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigValidationError);
      return (error as ConfigValidationError).issues.map((issue) => `${issue.path}: ${issue.message}`);
    }
    return [];
  };

  it('defaults: archive of the checked-out commit; remote: HEAD, mirror repo, resolved on the first host', () => {
    expect(parseOptions({})).toEqual({ strategy: 'archive', allowDirty: false });
    expect(parseOptions({ strategy: 'remote', url: 'u:r' })).toEqual({ strategy: 'remote', url: 'u:r', ref: 'HEAD', mirror: 'repo', resolveOn: 'host' });
    expect(parseOptions({ subdir: './apps//web/', ref: 'v1.2' })).toEqual({ strategy: 'archive', allowDirty: false, subdir: 'apps/web', ref: 'v1.2' });
  });

  it('every problem at once, with its path, at factory call time', () => {
    expect(problems({ strategy: 'remote', ref: '--upload-pack=x', sshKey: 'keys/deploy', knownHostsFile: '/a b', repo: '.', allowDirty: true })).toEqual([
      `options.ref: "--upload-pack=x" starts with '-': git would read it as an option`,
      'options.sshKey: "keys/deploy" must be absolute or start with ~/ (a path on each host)',
      `options.knownHostsFile: "/a b" holds whitespace, which ssh's -o options cannot carry`,
      "options.url: missing — strategy 'remote' needs the repository URL the hosts clone, e.g. 'git@github.com:me/app.git'",
      "options.repo: only used by strategy 'archive' (this machine's work tree); remove it",
      "options.allowDirty: only used by strategy 'archive' (this machine's work tree); remove it",
    ]);
    expect(problems({ url: 'git@x:y', mirror: '~/m', stratgy: 'remote' })).toEqual([
      `options.mirror: "~/m" must be absolute or relative to deployTo (git does not expand ~ in --git-dir)`,
      "options.stratgy: unknown key — did you mean 'strategy'?",
      `options.url: only used by strategy 'remote' — set strategy: 'remote', or remove it`,
      `options.mirror: only used by strategy 'remote' — set strategy: 'remote', or remove it`,
    ]);
    expect(problems({ strategy: 'svn', subdir: '../up', allowDirty: 'yes', ref: 'a b' })).toEqual([
      "options.strategy: expected 'archive' or 'remote', got \"svn\"",
      "options.subdir: \"../up\" must stay inside the repository (no '..')",
      'options.allowDirty: expected true or false, got "yes"',
      'options.ref: "a b" holds whitespace or a control character, which no git ref can',
    ]);
    expect(() => git({ ref: '-x' } as never)).toThrow(/Plugin deployr:git has 1 problem:\n {2}options.ref: "-x" starts with '-'/);
  });

  it('the README documents every option with the schema’s own description', () => {
    const readme = readFileSync(new URL('../../../plugins/git/README.md', import.meta.url), 'utf8');
    const rows = readme.split('\n').filter((line) => /^\| `\w+` \|/.test(line));
    expect(rows.map((row) => /^\| `(\w+)`/.exec(row)?.[1]).sort()).toEqual(Object.keys(optionsSchema.shape).sort());
    for (const [name, schema] of Object.entries(optionsSchema.shape)) {
      expect(rows.find((row) => row.startsWith(`| \`${name}\` |`)), name).toContain(`| ${schema.description as string} |`);
    }
  });

  it('release settings the strategy makes meaningless are warned about, not silently ignored', () => {
    const warned = (release: Record<string, unknown>, options: unknown): string[] => {
      const out: string[] = [];
      warnIgnoredSettings({ environment: { release }, log: { warn: (m: string) => out.push(m) } } as never, parseOptions(options));
      return out;
    };
    expect(warned({ build: 'npm ci', shared: ['.env'], buildLocally: 'npm run build' }, {})).toEqual([]);
    expect(warned({ source: 'dist' }, {})).toEqual(["release.source ('dist') is not used: the git plugin ships the commit; its subdir option ships a part of it"]);
    expect(warned({ buildLocally: 'make', ignore: ['*.map'] }, { strategy: 'remote', url: 'git@x:y' })).toEqual([
      "release.buildLocally does not run with the git plugin's remote strategy (each host fills its release from git): use release.build, which runs on each host",
      "release.ignore does not apply with the git plugin's remote strategy (each host exports the whole commit): mark paths export-ignore in .gitattributes instead",
    ]);
  });

  it('the plugin: named deployr:git, registers git:source (local for archive, once for remote) before deploy:source', async () => {
    const config = (plugin: ReturnType<typeof git>) => ({ app: 'a', deployTo: '/srv/a', environments: { t: { connect: 'local' as const } }, plugins: [plugin] });
    const archive = await createDeployr({ config: config(git()), environment: 't' });
    expect(archive.plugins.map((p) => p.name)).toEqual(['deployr:git']);
    expect(archive.getTask('git:source')).toMatchObject({ local: true, plugin: 'deployr:git' });
    const remote = await createDeployr({ config: config(git({ strategy: 'remote', url: 'git@x:y' })), environment: 't' });
    expect(remote.getTask('git:source')).toMatchObject({ once: true, plugin: 'deployr:git' });
    const local = await createDeployr({ config: config(git({ strategy: 'remote', url: 'git@x:y', resolveOn: 'local' })), environment: 't' });
    expect(local.getTask('git:source')).toMatchObject({ local: true });
    await Promise.all([archive.close(), remote.close(), local.close()]);
  });
});

describe('remote refs', () => {
  const listing = [
    'ref: refs/heads/main\tHEAD',
    `${A}\tHEAD`,
    `${A}\trefs/heads/main`,
    `${B}\trefs/heads/feature/login`,
    `${C}\trefs/heads/v2`,
    `${T}\trefs/tags/v1.0`,
    `${B}\trefs/tags/v1.0^{}`,
    `${C}\trefs/tags/v2`,
    `${A}\trefs/pull/7/head`,
    '',
  ].join('\n');
  const remote = parseLsRemote(listing);
  const url = 'git@example.com:me/app.git';

  it('HEAD is the default branch; annotated tags resolve to their commit; a full commit id needs no lookup', () => {
    expect(resolveRemoteRef(remote, 'HEAD', url)).toEqual({ commit: A, ref: 'main' });
    expect(resolveRemoteRef(remote, 'main', url)).toEqual({ commit: A, ref: 'main' });
    expect(resolveRemoteRef(remote, 'v1.0', url)).toEqual({ commit: B, ref: 'v1.0' });
    expect(resolveRemoteRef(remote, 'feature/login', url)).toEqual({ commit: B, ref: 'feature/login' });
    expect(resolveRemoteRef(remote, 'refs/heads/v2', url)).toEqual({ commit: C, ref: 'v2' });
    expect(resolveRemoteRef(remote, C.toUpperCase(), url)).toEqual({ commit: C });
    expect(remote.advertised.get('refs/tags/v1.0')).toBe(T); // what a mirror holds: the tag object
  });

  it('a tag and a branch of one name: the tag, as git does, with a warning', () => {
    expect(resolveRemoteRef(remote, 'v2', url)).toMatchObject({ commit: C, ref: 'v2', warning: expect.stringContaining('both a tag and a branch') });
  });

  it('an unknown ref lists close names; an abbreviated commit id says to give the full one', () => {
    expect(() => resolveRemoteRef(remote, 'mian', url)).toThrow(`${url} has no branch or tag "mian" — did you mean 'main'?`);
    expect(() => resolveRemoteRef(remote, 'v1', url)).toThrow(/did you mean 'v1.0' or 'v2'\?/);
    expect(() => resolveRemoteRef(remote, 'abc1234', url)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/give the full commit id/) }));
    expect(() => resolveRemoteRef(parseLsRemote(''), 'HEAD', url)).toThrow(/has no HEAD/);
  });

  it('close matches and repository hosts for messages', () => {
    expect(closeMatches('relase', ['release', 'main', 'rel', 'develop'])).toEqual(['release', 'rel']);
    expect(closeMatches('zzz', ['main'])).toEqual([]);
    expect(repositoryHost('git@github.com:me/app.git')).toEqual({ name: 'github.com', host: 'github.com' });
    expect(repositoryHost('ssh://deploy@10.0.0.4:2222/srv/app.git')).toEqual({ name: '[10.0.0.4]:2222', host: '10.0.0.4', port: '2222' });
    expect(repositoryHost('ssh://deploy@[fd00::4]:22/srv/app.git')).toEqual({ name: 'fd00::4', host: 'fd00::4' });
    expect(repositoryHost('https://git.example.com/app.git')).toEqual({ name: 'git.example.com', host: 'git.example.com' });
  });

  it('failures say what to fix: an untrusted host key above all', () => {
    const key = repositoryError('cannot fetch', 'ssh://git@h:2222/r', { code: 128, stderr: 'No ED25519 host key is known for h and you have requested strict checking.\nHost key verification failed.\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n' });
    expect(key.message).toBe(
      'cannot fetch: the host key of [h]:2222 is not trusted there (unknown or changed), so git refused to connect:\nNo ED25519 host key is known for h and you have requested strict checking.\nHost key verification failed.\nfatal: Could not read from remote repository.',
    );
    expect(key.hint).toMatch(/your known_hosts on this machine .*`ssh-keyscan -p 2222 h`/);
    expect(repositoryError('cannot fetch', 'git@h:r', { code: 128, stderr: 'Host key verification failed.' }, 'web-1').hint).toMatch(/^add h's key to the knownHostsFile set in the git plugin/);
    expect(repositoryError('cannot clone', 'git@h:r', { code: 128, stderr: 'git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.' }).hint).toMatch(/deploy key/);
  });
});

describe('this machine: the archive strategy’s pieces on a real repository', () => {
  const repo = testRepo(temp('archive'));
  repo.write('app/server.js', 'v1\n');
  repo.write('app/run.sh', '#!/bin/sh\n', 0o775);
  repo.write('app/tests/a.test.js', 'test\n');
  repo.write('.gitattributes', 'app/tests export-ignore\n');
  repo.write('README', 'top\n');
  const first = repo.commit('first');
  repo.git('tag', '-a', 'v1.0', '-m', 'v1.0');
  repo.git('checkout', '-q', '-b', 'release');
  repo.git('checkout', '-q', 'main');
  repo.write('app/server.js', 'v2\n');
  const second = repo.commit('second');

  it('export: the commit only, export-ignore honoured, 644/755 modes, subdir as the root', async () => {
    const temps: string[] = [];
    const tree = await exportCommit(await openRepo(path.join(repo.dir, 'app'), undefined), first, (dir) => temps.push(dir));
    cleanup.push(...temps);
    expect(temps).toHaveLength(1);
    expect(tree).toBe(path.join(temps[0] as string, 'tree'));
    expect(readdirSync(tree).sort()).toEqual(['run.sh', 'server.js']);
    expect(readFileSync(path.join(tree, 'server.js'), 'utf8')).toBe('v1\n');
    expect((statSync(path.join(tree, 'run.sh')).mode & 0o777).toString(8)).toBe('755');
    expect((statSync(path.join(tree, 'server.js')).mode & 0o777).toString(8)).toBe('644');
    expect(existsSync(path.join(temps[0] as string, 'source.tar'))).toBe(false);
    const whole = await exportCommit(await openRepo(repo.dir, undefined), second, (dir) => cleanup.push(dir));
    expect(readdirSync(whole).sort()).toEqual(['.gitattributes', 'README', 'app']);
    await expect(exportCommit(await openRepo(repo.dir, 'nope'), second, (dir) => cleanup.push(dir))).rejects.toThrow(/nope is not in commit/);
  });

  it('refs: default is the checked-out branch; tags peel to their commit; unknown refs suggest close ones', async () => {
    const opened = await openRepo(path.join(repo.dir, 'app'), 'tests');
    expect(opened).toEqual({ top: repo.dir, path: 'app/tests', head: second });
    expect(await resolveLocalRef(opened, undefined)).toEqual({ commit: second, ref: 'main' });
    expect(await resolveLocalRef(opened, 'v1.0')).toEqual({ commit: first, ref: 'v1.0' });
    expect(await resolveLocalRef(opened, 'main~1')).toEqual({ commit: first });
    expect(await resolveLocalRef(opened, first.slice(0, 10))).toEqual({ commit: first });
    await expect(resolveLocalRef(opened, 'relase')).rejects.toThrow(`${repo.dir} has no branch, tag or commit "relase" — did you mean 'release'?`);
    await expect(openRepo(temp('notarepo'), undefined)).rejects.toThrow(/is not in a git work tree/);
  });

  it('uncommitted changes and untracked files under the shipped path count; ignored files and other paths do not', async () => {
    const app = await openRepo(path.join(repo.dir, 'app'), undefined);
    expect(await uncommittedChanges(app)).toEqual([]);
    repo.write('README', 'edited\n');
    repo.write('.gitignore', '*.log\n');
    repo.write('app/debug.log', 'ignored\n');
    expect(await uncommittedChanges(app)).toEqual([]);
    repo.write('app/server.js', 'edited\n');
    repo.write('app/new.js', 'untracked\n');
    expect(await uncommittedChanges(app)).toEqual([' M app/server.js', '?? app/new.js']);
    // deployr's own run logs (logDir) exist by the time the check runs: they are not the user's changes.
    repo.write('app/.deployr/logs/run/h1.txt', 'log\n');
    expect(await uncommittedChanges(app)).toEqual([' M app/server.js', '?? app/.deployr/', '?? app/new.js']);
    expect(await uncommittedChanges(app, [path.join(repo.dir, 'app/.deployr/logs'), '/elsewhere'])).toEqual([' M app/server.js', '?? app/new.js']);
    repo.remove('app/.deployr');
    repo.git('checkout', '-q', '--', '.');
    repo.remove('app/new.js');
    repo.remove('app/debug.log');
    repo.remove('.gitignore');
  });
});

describe('this machine: the remote strategy’s host commands, run by sh on real repositories', () => {
  const messages: string[] = [];
  const log: Logger = { info: (m) => messages.push(m), warn: (m) => messages.push(`warn: ${m}`), debug: () => undefined };
  const ctx = (dryRun = false) => ({ log, dryRun, signal: new AbortController().signal, target: { name: 'local' } }) as never;

  it('clone, unchanged fetch, updated fetch, export into a release: with hostile names', async () => {
    const upstream = testRepo(temp('upstream'));
    upstream.write('index.html', 'v1\n');
    upstream.write('bin/run', '#!/bin/sh\n', 0o755);
    const v1 = upstream.commit('v1');
    const deployTo = temp("deploy to $(id) 'x'");
    const host = new Host(new LocalConnection()).cd(deployTo).env(gitEnv({}));
    const url = upstream.dir;
    const mirror = "mirror's dir";

    messages.length = 0;
    expect(await syncMirror(ctx(true), host, url, mirror)).toBe('created');
    expect(existsSync(path.join(deployTo, mirror))).toBe(false); // --dry-run: predicted only
    expect(await syncMirror(ctx(), host, url, mirror)).toBe('created');
    expect(await syncMirror(ctx(), host, url, mirror)).toBe('unchanged');
    expect(messages).toEqual([`would create git mirror ${mirror}`, `git mirror ${mirror}: created`, `git mirror ${mirror}: unchanged`]);

    upstream.write('index.html', 'v2\n');
    const v2 = upstream.commit('v2');
    expect(await syncMirror(ctx(true), host, url, mirror)).toBe('updated'); // predicted from ls-remote against the mirror's refs
    expect(await syncMirror(ctx(), host, url, mirror)).toBe('updated');
    expect(await syncMirror(ctx(true), host, url, mirror)).toBe('unchanged');

    const release = 'releases/$(touch pwned)';
    await host.exec(`mkdir -p 'releases/$(touch pwned)'`);
    expect((await host.exec(hasCommitCommand(mirror, v2), { nothrow: true })).ok).toBe(true);
    expect((await host.exec(hasCommitCommand(mirror, 'f'.repeat(40)), { nothrow: true })).ok).toBe(false);
    await host.exec(exportCommand(mirror, v1, release));
    const out = path.join(deployTo, release);
    expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toBe('v1\n');
    expect((statSync(path.join(out, 'bin/run')).mode & 0o777).toString(8)).toBe('755');
    expect(existsSync(path.join(deployTo, 'pwned'))).toBe(false);
    const bad = await host.exec(exportCommand(mirror, 'f'.repeat(40), release), { nothrow: true });
    expect(bad.ok).toBe(false); // tar refuses the empty stream of a failed git archive
    execFileSync('git', ['--git-dir', path.join(deployTo, mirror), 'rev-parse', '--verify', 'main'], { encoding: 'utf8' });
  });
});

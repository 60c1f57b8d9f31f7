// The git plugin's remote strategy on the fleet: a bare repository on h4
// (pushed to over ssh as the deploy user), hosts h2 and h3 deploying from
// it with a deploy key and a known_hosts file of their own. Each host keeps
// a mirror: cloned once, then fetched ("unchanged" when nothing is new);
// one commit for the whole fleet; an untrusted host key is refused.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostShell, type FleetHost, type FleetState } from '../../fleet/fleet.js';
import { useFleet } from '../../fleet/use-fleet.js';
import { events } from '../../release/release-project.js';
import { changes, gitProject, messages, type GitProject } from './git-project.js';
import { gitEnv, testRepo, type TestRepo } from './git-repo.js';

const LONG = 120_000;
let fleet: FleetState;
let repoHost: FleetHost;
let repo: TestRepo;
let project: GitProject;
let url: string;
let bare: string;
const names = ['h2', 'h3'];
const commits: string[] = [];

const keyFile = () => `~/.ssh/git-${project.tag}.key`;
const knownHosts = () => `~/.ssh/git-${project.tag}.known_hosts`;
const emptyKnownHosts = () => `~/.ssh/git-${project.tag}.empty_known_hosts`;
const deploy = (env: NodeJS.ProcessEnv = {}, ...extra: string[]) =>
  project.cli(['deploy', 'fleet', '--json', ...extra], { GIT_URL: url, GIT_KEY: keyFile(), GIT_KNOWN_HOSTS: knownHosts(), ...env });

/** This machine's ssh to the fleet, for git here: the fleet's key and known_hosts. */
const localSsh = () => `ssh -i ${fleet.clientKey} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${fleet.knownHosts}`;

/** Pushes the local repo's main (and tags) to the bare repository, over ssh as the deploy user, as a developer would. */
function push(): void {
  execFileSync('git', ['push', '-q', '--follow-tags', url, 'main'], { cwd: repo.dir, env: gitEnv({ GIT_SSH_COMMAND: localSsh() }), stdio: 'pipe' });
}

/** The bare repository's main, read on h4 itself. */
async function bareMain(): Promise<string> {
  return (await hostShell(fleet, repoHost.name, `git -c safe.directory='*' --git-dir=${bare} rev-parse main`)).stdout.trim();
}

beforeAll(async () => {
  fleet = useFleet();
  repoHost = fleet.hosts.find((h) => h.name === 'h4') as FleetHost;
  repo = testRepo();
  project = gitProject(
    fleet,
    repo.dir,
    fleet.hosts.filter((h) => names.includes(h.name)),
    `{ strategy: 'remote', url: env.GIT_URL as string, sshKey: env.GIT_KEY, knownHostsFile: env.GIT_KNOWN_HOSTS, ...(env.GIT_REF ? { ref: env.GIT_REF } : {}), ...(env.GIT_RESOLVE_ON === 'local' ? { resolveOn: 'local' } : {}) }`,
    // The commit has logs/.gitkeep; shared logs/ replaces it with a link, so it is not the release's.
    `{ shared: ['logs/'] }`,
  );
  bare = `/srv/git-${project.tag}/app.git`;
  url = `ssh://${fleet.user}@${repoHost.address}:${repoHost.port}${bare}`;
  const made = await hostShell(fleet, repoHost.name, `git init -q --bare -b main ${bare} && chown -R ${fleet.user}: /srv/git-${project.tag}`);
  expect(made.stderr).toBe('');

  // Each deploying host gets a deploy key (the fleet's client key, authorized for deploy on h4) and h4's host key only.
  const h4Keys = readFileSync(fleet.knownHosts, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith(`${repoHost.address} `) || line.startsWith(`[${repoHost.address}]:${repoHost.port} `))
    .join('\n');
  expect(h4Keys).not.toBe('');
  const home = `/home/${fleet.user}/.ssh`;
  const put = (file: string, mode: string, content: string) =>
    Promise.all(names.map((name) => hostShell(fleet, name, `install -d -m 700 -o ${fleet.user} -g ${fleet.user} ${home} && cat > ${home}/${file} && chown ${fleet.user}: ${home}/${file} && chmod ${mode} ${home}/${file}`, { input: content })));
  await put(`git-${project.tag}.key`, '600', readFileSync(fleet.clientKey, 'utf8'));
  await put(`git-${project.tag}.known_hosts`, '644', `${h4Keys}\n`);
  await put(`git-${project.tag}.empty_known_hosts`, '644', '');

  repo.write('.gitignore', '.deployr/\n');
  repo.write('.gitattributes', 'docs/ export-ignore\n');
  repo.write('server.js', 'console.log("v1");\n');
  repo.write('bin/start', '#!/bin/sh\nexec node server.js\n', 0o755);
  repo.write('docs/notes.md', 'not deployed\n');
  repo.write('logs/.gitkeep', '');
  commits.push(repo.commit('v1'));
  push();
});

afterAll(async () => {
  await Promise.all([
    ...names.map((name) => hostShell(fleet, name, `rm -rf /home/${fleet.user}/git-${project.tag} /home/${fleet.user}/.ssh/git-${project.tag}.*`)),
    hostShell(fleet, repoHost.name, `rm -rf /srv/git-${project.tag}`),
  ]);
  rmSync(repo.dir, { recursive: true, force: true });
});

describe('git plugin, remote strategy', () => {
  it('first deploy: each host clones its mirror and exports the remote HEAD’s commit; manifest and status show it', { timeout: LONG }, async () => {
    const result = await deploy();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await bareMain()).toBe(commits[0]);
    expect(messages(result.stdout)).toContain(`deploying commit ${commits[0]} (main) of ${url}`);
    expect(changes(result.stdout).sort((a, b) => String(a.host).localeCompare(String(b.host)))).toEqual([
      { host: 'h2', what: 'git mirror repo', status: 'created', predicted: false },
      { host: 'h3', what: 'git mirror repo', status: 'created', predicted: false },
    ]);
    for (const name of names) {
      expect(await project.files(name), name).toEqual(['.gitattributes', '.gitignore', 'bin/start', 'deploy.config.ts', 'logs', 'server.js']);
      const manifest = await project.manifest(name);
      expect(manifest.source, name).toEqual({ commit: commits[0], ref: 'main', dirty: false });
      expect(Object.keys(manifest.files).sort(), name).toEqual(['.gitattributes', '.gitignore', 'bin/start', 'deploy.config.ts', 'server.js']);
      const mirror = await project.sh(name, `stat -c '%U %a' current/bin/start current/server.js; git --git-dir=repo config remote.origin.mirror`);
      expect(mirror.stdout).toBe(`${fleet.user} 755\n${fleet.user} 644\ntrue\n`);
    }
    const status = await project.cli(['status', 'fleet'], { GIT_URL: url });
    expect(status.code).toBe(0);
    for (const name of names) expect(status.stdout).toMatch(new RegExp(`^${name} .* ${(commits[0] as string).slice(0, 12)}`, 'm'));
    expect(status.stdout).not.toContain('drift');
  });

  it('second deploy with nothing new: the mirror fetch reports unchanged, same commit', { timeout: LONG }, async () => {
    const result = await deploy();
    expect(result.code).toBe(0);
    expect(changes(result.stdout).map((c) => `${String(c.host)} ${c.what}: ${c.status}`).sort()).toEqual(['h2 git mirror repo: unchanged', 'h3 git mirror repo: unchanged']);
    for (const name of names) expect((await project.manifest(name)).source.commit).toBe(commits[0]);
  });

  it('a new commit pushed: the mirrors fetch it and every host deploys that commit', { timeout: LONG }, async () => {
    repo.write('server.js', 'console.log("v2");\n');
    repo.write('lib/util.js', 'export {};\n');
    commits.push(repo.commit('v2'));
    push();
    const result = await deploy();
    expect(result.code).toBe(0);
    expect(changes(result.stdout).map((c) => `${String(c.host)} ${c.status}`).sort()).toEqual(['h2 updated', 'h3 updated']);
    expect(await bareMain()).toBe(commits[1]);
    for (const name of names) {
      expect((await project.manifest(name)).source).toEqual({ commit: commits[1], ref: 'main', dirty: false });
      expect(await project.files(name)).toEqual(['.gitattributes', '.gitignore', 'bin/start', 'deploy.config.ts', 'lib/util.js', 'logs', 'server.js']);
      expect((await project.sh(name, 'cat current/server.js')).stdout).toBe('console.log("v2");\n');
    }
  });

  it('--dry-run shows the commit it would deploy and the fetch it would make, and changes nothing', { timeout: LONG }, async () => {
    repo.write('server.js', 'console.log("v3");\n');
    commits.push(repo.commit('v3'));
    push();
    const before = await project.snapshot();
    const result = await project.cli(['deploy', 'fleet', '--dry-run'], { GIT_URL: url, GIT_KEY: keyFile(), GIT_KNOWN_HOSTS: knownHosts() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`would deploy commit ${commits[2]} (main) of ${url}`);
    expect(result.stdout).toMatch(/\[h2\] .*would update git mirror repo/);
    expect(await project.snapshot()).toBe(before);
    for (const name of names) expect((await project.sh(name, 'git --git-dir=repo rev-parse main')).stdout.trim()).toBe(commits[1]);
  });

  it('an unknown host key for the repository host is refused, clearly, when resolving the ref and when fetching', { timeout: LONG }, async () => {
    const before = await project.snapshot();
    const resolving = await project.cli(['deploy', 'fleet'], { GIT_URL: url, GIT_KEY: keyFile(), GIT_KNOWN_HOSTS: emptyKnownHosts() });
    expect(resolving.code).toBe(1);
    expect(resolving.stderr).toContain(`[deployr:git] failed in task "git:source" on h2: cannot list the refs of ${url}: the host key of ${repoHost.port === 22 ? repoHost.address : `[${repoHost.address}]:${repoHost.port}`} is not trusted there`);
    expect(resolving.stderr).toContain('Host key verification failed.');
    expect(resolving.stderr).toContain('unknown keys are never accepted');
    // A full commit id needs no resolving: each host's fetch is what refuses.
    const fetching = await project.cli(['deploy', 'fleet'], { GIT_URL: url, GIT_KEY: keyFile(), GIT_KNOWN_HOSTS: emptyKnownHosts(), GIT_REF: commits[2] as string });
    expect(fetching.code).toBe(1);
    expect(fetching.stderr).toMatch(/\[deployr:git\] failed in task "deploy:update" on h[23]: cannot fetch .* into repo: the host key of .* is not trusted there/);
    expect(await project.snapshot()).toBe(before);
  });

  it('a full commit id deploys that commit on every host (no ref recorded)', { timeout: LONG }, async () => {
    const result = await deploy({ GIT_REF: commits[2] as string });
    expect(result.code).toBe(0);
    expect(changes(result.stdout).map((c) => c.status)).toEqual(['updated', 'updated']);
    for (const name of names) {
      expect((await project.manifest(name)).source).toEqual({ commit: commits[2], dirty: false });
      expect((await project.sh(name, 'cat current/server.js')).stdout).toBe('console.log("v3");\n');
    }
  });

  it("resolveOn: 'local' resolves the ref with this machine's git and ssh; the hosts' mirrors have nothing new", { timeout: LONG }, async () => {
    const result = await deploy({ GIT_RESOLVE_ON: 'local', GIT_SSH_COMMAND: localSsh() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const resolved = events(result.stdout).find((event) => String(event['message']).startsWith('deploying commit'));
    expect(resolved).toMatchObject({ host: 'local', message: `deploying commit ${commits[2]} (main) of ${url}` });
    expect(changes(result.stdout).map((c) => c.status)).toEqual(['unchanged', 'unchanged']);
    for (const name of names) expect((await project.manifest(name)).source).toEqual({ commit: commits[2], ref: 'main', dirty: false });
  });
});

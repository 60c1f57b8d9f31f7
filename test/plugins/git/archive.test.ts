// The git plugin's archive strategy on the fleet (h2, h3): a real repository
// made here (commits, an annotated tag, a branch), the project's config in
// it, deploys through the CLI. What a release holds is exactly a commit;
// a dirty work tree is refused before anything changes on a host.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetState } from '../../fleet/fleet.js';
import { useFleet } from '../../fleet/use-fleet.js';
import { uploads } from '../../release/release-project.js';
import { gitProject, messages, type GitProject } from './git-project.js';
import { gitEnv, testRepo, type TestRepo } from './git-repo.js';

const LONG = 120_000;
let fleet: FleetState;
let repo: TestRepo;
let project: GitProject;
let scratch: string;
const names = ['h2', 'h3'];
const commits: Record<string, string> = {};

/** A deploy with the plugin options taken from the environment; its own TMPDIR, to see the exported tree go. */
const deploy = (env: NodeJS.ProcessEnv = {}, ...extra: string[]) =>
  project.cli(['deploy', 'fleet', '--json', ...extra], { ...gitEnv(), TMPDIR: scratch, ...env });

beforeAll(() => {
  fleet = useFleet();
  repo = testRepo();
  scratch = mkdtempSync(path.join(tmpdir(), 'deployr-gitarchive-tmp-'));
  project = gitProject(
    fleet,
    repo.dir,
    fleet.hosts.filter((h) => names.includes(h.name)),
    `{ ...(env.GIT_REF ? { ref: env.GIT_REF } : {}), allowDirty: env.GIT_ALLOW_DIRTY === '1' }`,
  );
  repo.write('.gitignore', '.deployr/\n*.log\n');
  repo.write('.gitattributes', 'tests/ export-ignore\n');
  repo.write('server.js', 'console.log("v1");\n');
  repo.write('public/index.html', '<h1>v1</h1>\n');
  repo.write('bin/start', '#!/bin/sh\nexec node server.js\n', 0o755);
  repo.write('tests/server.test.js', 'never shipped\n');
  commits['v1'] = repo.commit('v1');
  repo.git('tag', '-a', 'v1.0', '-m', 'release 1.0');
  repo.write('server.js', 'console.log("v2");\n');
  commits['v2'] = repo.commit('v2');
  repo.git('checkout', '-q', '-b', 'feature');
  repo.write('lib/feature.js', 'export const feature = true;\n');
  commits['feature'] = repo.commit('feature');
  repo.git('checkout', '-q', 'main');
});

afterAll(async () => {
  await Promise.all(names.map((name) => project.sh(name, `rm -rf ~deploy/git-${project.tag}`)));
  rmSync(repo.dir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** What a release of the main branch holds: the commit's files, export-ignore'd tests left out. */
const MAIN_FILES = ['.gitattributes', '.gitignore', 'bin/start', 'deploy.config.ts', 'public/index.html', 'server.js'];

describe('git plugin, archive strategy', () => {
  it('deploys the checked-out branch: exactly the commit’s files, commit and ref in the manifest and in status', { timeout: LONG }, async () => {
    const result = await deploy();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(messages(result.stdout)).toContain(`deploying commit ${commits['v2']} (main) of ${repo.dir}`);
    const sent = uploads(result.stdout);
    for (const name of names) {
      expect(sent.get(name)?.sentFiles, name).toBe(MAIN_FILES.length);
      expect(await project.files(name), name).toEqual(MAIN_FILES);
      expect((await project.manifest(name)).source, name).toEqual({ commit: commits['v2'], ref: 'main', dirty: false });
      const check = await project.sh(name, 'cat current/server.js; stat -c %a current/bin/start current/server.js');
      expect(check.stdout).toBe('console.log("v2");\n755\n644\n');
    }
    const status = await project.cli(['status', 'fleet']);
    expect(status.code).toBe(0);
    for (const name of names) expect(status.stdout).toMatch(new RegExp(`^${name} .* ${(commits['v2'] as string).slice(0, 12)}`, 'm'));
    // The exported tree is removed at the end of the run.
    expect(readdirSync(scratch).filter((entry) => entry.startsWith('deployr-git-'))).toEqual([]);
  });

  it('refuses a dirty work tree before anything changes on a host, naming the repo and the files', { timeout: LONG }, async () => {
    repo.write('server.js', 'console.log("uncommitted");\n');
    repo.write('notes.txt', 'untracked\n');
    const before = await project.snapshot();
    const result = await project.cli(['deploy', 'fleet'], { ...gitEnv(), TMPDIR: scratch });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`[deployr:git] failed in task "git:source" on local: ${repo.dir} has uncommitted changes, which a git archive deploy would not ship:`);
    expect(result.stderr).toContain(' M server.js');
    expect(result.stderr).toContain('?? notes.txt');
    expect(result.stderr).toContain('allowDirty: true');
    expect(await project.snapshot()).toBe(before);
    expect(readdirSync(scratch).filter((entry) => entry.startsWith('deployr-git-'))).toEqual([]);
  });

  it('allowDirty deploys the commit as committed, says the changes are not shipped; the same commit again sends 0 files', { timeout: LONG }, async () => {
    const first = await project.current('h2');
    const result = await deploy({ GIT_ALLOW_DIRTY: '1' });
    expect(result.code).toBe(0);
    expect(messages(result.stdout).find((m) => m.includes('allowDirty is set'))).toMatch(/your uncommitted changes are NOT shipped \(git archive ships the commit\)/);
    for (const [name, upload] of uploads(result.stdout)) {
      expect(upload.base, name).toBe(first);
      expect(upload.sentFiles, name).toBe(0);
      expect(upload.unchangedFiles, name).toBe(MAIN_FILES.length);
    }
    for (const name of names) {
      expect(await project.files(name)).toEqual(MAIN_FILES); // no notes.txt
      expect((await project.sh(name, 'cat current/server.js')).stdout).toBe('console.log("v2");\n');
      expect((await project.manifest(name)).source).toEqual({ commit: commits['v2'], ref: 'main', dirty: false });
    }
  });

  it('a tag deploys its commit (the dirty work tree is not that commit) and sends only what differs', { timeout: LONG }, async () => {
    const result = await deploy({ GIT_REF: 'v1.0' });
    expect(result.code).toBe(0);
    for (const [name, upload] of uploads(result.stdout)) {
      expect(upload.sentFiles, name).toBe(1); // server.js: v2 → v1
    }
    for (const name of names) {
      expect((await project.manifest(name)).source).toEqual({ commit: commits['v1'], ref: 'v1.0', dirty: false });
      expect((await project.sh(name, 'cat current/server.js')).stdout).toBe('console.log("v1");\n');
    }
    repo.git('checkout', '-q', '--', '.');
    repo.remove('notes.txt');
  });

  it('a new commit on a branch sends only the changed and new files', { timeout: LONG }, async () => {
    repo.git('checkout', '-q', 'feature');
    repo.write('public/index.html', '<h1>feature</h1>\n');
    commits['feature2'] = repo.commit('feature 2');
    repo.git('checkout', '-q', 'main');
    const result = await deploy({ GIT_REF: 'feature' });
    expect(result.code).toBe(0);
    for (const [name, upload] of uploads(result.stdout)) {
      // From v1: server.js, public/index.html changed, lib/feature.js new.
      expect(upload.sentFiles, name).toBe(3);
      expect(upload.unchangedFiles, name).toBe(MAIN_FILES.length - 2);
    }
    for (const name of names) {
      expect(await project.files(name)).toEqual([...MAIN_FILES, 'lib/feature.js'].sort());
      expect((await project.manifest(name)).source).toEqual({ commit: commits['feature2'], ref: 'feature', dirty: false });
    }
  });

  it('an unknown ref fails with the close names, and --dry-run shows the commit it would deploy; neither changes a host', { timeout: LONG }, async () => {
    const before = await project.snapshot();
    const unknown = await project.cli(['deploy', 'fleet'], { ...gitEnv(), TMPDIR: scratch, GIT_REF: 'featur' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`has no branch, tag or commit "featur" — did you mean 'feature'?`);
    const dry = await project.cli(['deploy', 'fleet', '--dry-run'], { ...gitEnv(), TMPDIR: scratch, GIT_REF: 'v1.0' });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`would deploy commit ${commits['v1']} (v1.0)`);
    expect(await project.snapshot()).toBe(before);
    expect(readdirSync(scratch).filter((entry) => entry.startsWith('deployr-git-'))).toEqual([]);
  });
});

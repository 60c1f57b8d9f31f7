// A real git repository on this machine for the git plugin's tests: made
// with the git CLI (no library), commits with a fixed identity.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestRepo {
  readonly dir: string;
  /** Runs git in the repo; returns stdout, trimmed. Throws on a non-zero exit. */
  git(...args: string[]): string;
  write(file: string, content: string, mode?: number): void;
  remove(file: string): void;
  /** `git add -A && git commit`; returns the new commit id. */
  commit(message: string): string;
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.invalid',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.invalid',
};

export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // No global or system config of this machine leaks in (signing, hooks, default branch).
  return { PATH: process.env['PATH'], HOME: process.env['HOME'], GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C', ...IDENTITY, ...extra };
}

export function testRepo(dir = mkdtempSync(path.join(tmpdir(), 'deployr-gitrepo-')), env: NodeJS.ProcessEnv = {}): TestRepo {
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env: gitEnv(env), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  git('init', '-q', '-b', 'main');
  return {
    dir,
    git,
    write(file, content, mode) {
      const full = path.join(dir, file);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content);
      if (mode !== undefined) chmodSync(full, mode);
    },
    remove: (file) => rmSync(path.join(dir, file), { recursive: true, force: true }),
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
  };
}

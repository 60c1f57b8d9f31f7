// The README's first command: the repository's own deploy.config.ts deploys
// the example app (templates/hello) on this machine through the local
// transport. Run in a copy of the repository's config and app, so the test
// never touches the working tree: deploy, deploy again (nothing sent), the
// app answers with its release, status and rollback.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/run-cli.js';
import { uploads } from './release-project.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'deployr-embedded-'));
cpSync(path.join(repo, 'deploy.config.ts'), path.join(dir, 'deploy.config.ts'));
cpSync(path.join(repo, 'templates'), path.join(dir, 'templates'), { recursive: true });
const deployTo = path.join(dir, '.deployr/hello');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the deployed app on a free port and returns what GET /release answers. */
async function askRelease(): Promise<string> {
  const child = spawn(process.execPath, [path.join(deployTo, 'current/server.mjs')], { env: { PATH: process.env['PATH'], PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    // PORT=0: the OS picks one; the app prints it.
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        const found = /listening on :(\d+)/.exec(text);
        if (found) resolve(Number(found[1]));
      });
      child.on('exit', (code) => reject(new Error(`the app exited with ${code}`)));
    });
    return await (await fetch(`http://127.0.0.1:${port}/release`)).text();
  } finally {
    child.kill();
  }
}

describe('deployr deploy local (the embedded default)', () => {
  let first = '';

  it('deploys the example app: current → the release, shared logs linked, the build ran, the app serves its release', async () => {
    const { code, stdout, stderr } = await cli(['deploy', 'local', '--json'], dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const upload = uploads(stdout).get('local');
    expect(upload?.sentFiles).toBe(9);
    first = readlinkSync(path.join(deployTo, 'current')).replace('releases/', '');
    expect(first).toBe(upload?.release);
    expect(readlinkSync(path.join(deployTo, 'current/logs'))).toBe('../../shared/logs');
    expect(JSON.parse(readFileSync(path.join(deployTo, 'current/build-info.json'), 'utf8'))).toEqual({ release: first, environment: 'local' });
    expect(await askRelease()).toBe(`${first}\n`);
  });

  it('a second deploy sends nothing, and says so', async () => {
    const { code, stdout } = await cli(['deploy', 'local'], dir);
    expect(code).toBe(0);
    expect(stdout).toMatch(/\[local\] ℹ release \S+: from \S+: sent 0 files \(0 B\), 9 unchanged/);
    const second = readlinkSync(path.join(deployTo, 'current')).replace('releases/', '');
    expect(second).not.toBe(first);
    expect(await askRelease()).toBe(`${second}\n`);
  });

  it('status lists both releases; rollback goes back to the first', async () => {
    const status = await cli(['status', 'local'], dir);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('lock: free');
    expect(status.stdout).toContain(first);
    const back = await cli(['rollback', 'local'], dir);
    expect(back.code).toBe(0);
    expect(readlinkSync(path.join(deployTo, 'current'))).toBe(`releases/${first}`);
    expect(await askRelease()).toBe(`${first}\n`);
  });
});

// The two login users of the fleet and their sudo rules.
//
// - `<user>` (deploy): key login, passwordless sudo.
// - `<user>_pw`: key login too, but sudo asks for its password every time.
//
// Users are machine-wide (all hosts of all fleets share /etc/passwd), so:
// - we create them only if missing, and mark them with a GECOS comment; a user
//   of that name without our mark is someone else's and we refuse to touch it;
// - fleetDown leaves them in place: another fleet (other prefix) may be using
//   them, and an unused account with no sudo rule is harmless;
// - the password is random but kept per machine in PASSWORD_DIR, so a second
//   fleet coming up does not change the password under a running one.
//   (With UsePAM no, sshd refuses even key logins to a locked '!' account, so
//   a real password is needed anyway.)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fleetNames, type FleetConfig } from './config.js';
import { run, runOk, type RunResult } from './exec.js';

export const USER_MARK = 'deployr test fleet';
export const PASSWORD_DIR = '/var/lib/deployr-fleet';

export interface Ids {
  uid: number;
  gid: number;
}

export interface UsersResult {
  password: string;
  /** Users this call created (informational; recorded in state.json as `createdUsers`). */
  created: string[];
  ids: Record<string, Ids>;
}

function getent(user: string): string[] | null {
  try {
    return execFileSync('getent', ['passwd', user], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return null; // exit 2: no such user
  }
}

/** Create `<user>` and `<user>_pw` if missing, and give both the shared fleet password. */
export async function ensureUsers(cfg: FleetConfig): Promise<UsersResult> {
  const names = [cfg.user, `${cfg.user}_pw`];
  const created: string[] = [];
  for (const name of names) {
    const existing = getent(name);
    if (existing) {
      if (existing[4] !== USER_MARK) {
        throw new Error(
          `user ${name} already exists and was not created by the deployr test fleet (GECOS is not "${USER_MARK}"); ` +
            `refusing to change its password and sudo rights. Set DEPLOYR_FLEET_USER to another name.`,
        );
      }
      continue;
    }
    const r = await retryLocked(() =>
      run('useradd', ['-M', '-d', `/home/${name}`, '-s', '/bin/bash', '-c', USER_MARK, '-U', name]),
    );
    // Exit 9: created meanwhile by a fleet with another prefix coming up in parallel.
    if (r.code !== 0 && r.code !== 9) throw new Error(`useradd ${name}: ${r.stderr.trim()}`);
    if (r.code === 0) created.push(name);
  }

  const password = sharedPassword(cfg.user);
  const r = await retryLocked(() => run('chpasswd', [], { input: names.map((n) => `${n}:${password}\n`).join('') }));
  if (r.code !== 0) throw new Error(`chpasswd: ${r.stderr.trim()}`);

  const ids: Record<string, Ids> = {};
  for (const name of names) {
    const e = getent(name);
    if (!e) throw new Error(`user ${name} vanished right after creation`);
    ids[name] = { uid: Number(e[2]), gid: Number(e[3]) };
  }
  return { password, created, ids };
}

/** useradd/chpasswd fail with "cannot lock /etc/passwd" while another fleet is editing it: retry. */
async function retryLocked(fn: () => Promise<RunResult>): Promise<RunResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await fn();
    if (r.code === 0 || attempt >= 20 || !/lock/i.test(r.stderr)) return r;
    await new Promise((res) => setTimeout(res, 50 + Math.random() * 100));
  }
}

/** The machine's fleet password for `user`: read it, or create it atomically (first fleet wins). */
function sharedPassword(user: string): string {
  mkdirSync(PASSWORD_DIR, { recursive: true, mode: 0o700 });
  const file = path.join(PASSWORD_DIR, `${user}.password`);
  try {
    // 18 random bytes -> 24 base64url chars: no ':' or newline, safe for chpasswd.
    writeFileSync(file, randomBytes(18).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const pw = readFileSync(file, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(pw)) throw new Error(`${file} holds no usable password; delete it and retry`);
  return pw;
}

/**
 * Install /etc/sudoers.d/<prefix>-fleet after `visudo -cf` accepted it.
 * `<user>_pw` gets timestamp_timeout=0 so every sudo really needs the password
 * (no cached ticket leaking between tests), and no first-time lecture on stderr.
 */
export async function installSudoers(cfg: FleetConfig, workDir: string): Promise<void> {
  const { sudoersFile } = fleetNames(cfg);
  const pw = `${cfg.user}_pw`;
  const text =
    `# Installed by deployr test/fleet (prefix ${cfg.prefix}); removed by \`npm run fleet -- down\`.\n` +
    `${cfg.user} ALL=(ALL) NOPASSWD: ALL\n` +
    `Defaults:${pw} timestamp_timeout=0, lecture=never\n` +
    `${pw} ALL=(ALL) ALL\n`;
  const draft = path.join(workDir, 'sudoers.draft');
  writeFileSync(draft, text, { mode: 0o440 });
  await runOk('visudo', ['-cf', draft]);
  // Write next to the target, then rename: sudo ignores names containing '.',
  // so a half-written file is never read.
  const tmp = `${sudoersFile}.tmp`;
  writeFileSync(tmp, text, { mode: 0o440 });
  chmodSync(tmp, 0o440);
  renameSync(tmp, sudoersFile);
}

export function removeSudoers(cfg: FleetConfig): void {
  const { sudoersFile } = fleetNames(cfg);
  for (const f of [sudoersFile, `${sudoersFile}.tmp`]) {
    if (existsSync(f)) rmSync(f, { force: true });
  }
}

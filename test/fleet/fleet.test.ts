// Proves the test fleet is what integration tests assume: real OpenSSH hosts,
// reachable with the real ssh client and pinned host keys, each with its own
// /srv and home, the promised users/sudo rules, and stop/start that works.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBanner } from './banner.js';
import { run, type RunResult } from './exec.js';
import { hostShell, startHost, stopHost, type FleetHost, type FleetState } from './fleet.js';
import { useFleet } from './use-fleet.js';

let fleet: FleetState;
let scratch: string;
const tag = randomBytes(4).toString('hex'); // marker names unique to this run

interface SshOptions {
  user?: string;
  key?: string;
  input?: string;
  /** Extra -o options etc.; they come before the destination. */
  args?: string[];
  /** Answer for passphrase / password prompts via SSH_ASKPASS (turns BatchMode off). */
  askpass?: string;
}

/** The real OpenSSH client, isolated from ~/.ssh and any agent, strict host keys. */
function ssh(h: FleetHost, command: string, o: SshOptions = {}): Promise<RunResult> {
  const args = [
    '-F', '/dev/null',
    '-o', `BatchMode=${o.askpass === undefined ? 'yes' : 'no'}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${fleet.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'ConnectTimeout=5',
    '-i', o.key ?? fleet.clientKey,
    '-p', String(h.port),
    ...(o.args ?? []),
    `${o.user ?? fleet.user}@${h.address}`,
    command,
  ];
  let env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  if (o.askpass !== undefined) {
    const script = path.join(scratch, `askpass-${randomBytes(4).toString('hex')}`);
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' '${o.askpass}'\n`, { mode: 0o700 });
    env = { ...env, SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
  }
  return run('ssh', args, { input: o.input ?? '', env, timeoutMs: 20_000 });
}

const host = (name: string) => {
  const h = fleet.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no ${name}`);
  return h;
};

beforeAll(() => {
  fleet = useFleet();
  scratch = mkdtempSync(path.join(tmpdir(), 'fleet-test-'));
  expect(fleet.hosts.length).toBeGreaterThanOrEqual(2);
});

afterAll(async () => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (!fleet) return;
  // Leave a reused fleet as we found it.
  await Promise.all(fleet.hosts.map((h) => hostShell(fleet, h.name, `rm -f /srv/.fleet-test-${tag}* /home/*/.fleet-test-${tag}*`)));
});

describe('test fleet', () => {
  it('every host answers the real ssh client (key auth, pinned ed25519 host key) on its own address', async () => {
    const results = await Promise.all(fleet.hosts.map((h) => ssh(h, 'echo "$(id -un) $SSH_CONNECTION"')));
    results.forEach((r, i) => {
      const h = fleet.hosts[i]!;
      expect(r.code, r.stderr).toBe(0);
      const [user, , , serverAddr, serverPort] = r.stdout.trim().split(' ');
      expect(user).toBe(fleet.user);
      expect(serverAddr).toBe(h.address);
      expect(Number(serverPort)).toBe(h.port);
    });
    expect(new Set(fleet.hosts.map((h) => `${h.address}:${h.port}`)).size).toBe(fleet.hosts.length);
  });

  it('passwordUser logs in with the key and with its password; the passphrase key works; the unauthorized key is refused', async () => {
    const h = host('h1');
    const byKey = await ssh(h, 'id -un', { user: fleet.passwordUser });
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(byKey.stdout.trim()).toBe(fleet.passwordUser);

    const byPassword = await ssh(h, 'id -un', {
      user: fleet.passwordUser,
      askpass: fleet.password,
      args: ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1'],
    });
    expect(byPassword.code, byPassword.stderr).toBe(0);
    expect(byPassword.stdout.trim()).toBe(fleet.passwordUser);

    const wrongPassword = await ssh(h, 'true', {
      user: fleet.passwordUser,
      askpass: 'not-the-password',
      args: ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1'],
    });
    expect(wrongPassword.code).toBe(255);

    const byPassphraseKey = await ssh(h, 'id -un', { key: fleet.passphraseKey.path, askpass: fleet.passphraseKey.passphrase });
    expect(byPassphraseKey.code, byPassphraseKey.stderr).toBe(0);
    expect(byPassphraseKey.stdout.trim()).toBe(fleet.user);

    const refused = await ssh(h, 'true', { key: fleet.unauthorizedKey });
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/Permission denied/);
  });

  it('each host has its own /srv and home (write on one, absent on the others and on the real fs)', async () => {
    const [first, ...others] = fleet.hosts;
    const marker = `.fleet-test-${tag}`;
    const w = await ssh(first!, `echo ${first!.name} > /srv/${marker} && echo home > ~/${marker}`); // no sudo: deploy owns /srv
    expect(w.code, w.stderr).toBe(0);

    expect(existsSync(path.join(first!.root, 'srv', marker))).toBe(true);
    expect(existsSync(path.join(first!.root, 'home', marker))).toBe(true);
    expect(existsSync(path.join('/srv', marker))).toBe(false);

    const seen = await Promise.all(others.map((h) => ssh(h, `test -e /srv/${marker} || test -e ~/${marker}; echo $?`)));
    for (const r of seen) expect(r.stdout.trim(), r.stderr).toBe('1');
  });

  it('isolation does not depend on hostname: each host reads back its own identity file', async () => {
    // All hosts share the machine's hostname (no UTS namespace); the mount
    // namespace is what tells them apart.
    const file = `/srv/.fleet-test-${tag}-whoami`;
    await Promise.all(fleet.hosts.map((h) => hostShell(fleet, h.name, `echo ${h.name} > ${file}`)));
    const results = await Promise.all(fleet.hosts.map((h) => ssh(h, `cat ${file}; hostname`)));
    const hostnames = new Set<string>();
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      const [who, hostname] = r.stdout.trim().split('\n');
      expect(who).toBe(fleet.hosts[i]!.name);
      hostnames.add(hostname ?? '');
    });
    expect(hostnames.size).toBe(1);
  });

  it('hostShell runs as root inside the host namespaces', async () => {
    const h = host('h2');
    const r = await hostShell(fleet, h.name, 'id -u; findmnt -n -o SOURCE /srv; ip -o -4 addr show scope global');
    expect(r.code, r.stderr).toBe(0);
    const [uid, source, ...addrs] = r.stdout.trim().split('\n');
    expect(uid).toBe('0');
    expect(source).toContain(path.join(h.root, 'srv'));
    // netns mode: the host sees only its own address (loopback mode shares the machine's).
    if (fleet.mode === 'netns') expect(addrs.map((l) => l.split(/\s+/)[3])).toEqual([`${h.address}/24`]);
  });

  it('user: sudo -n works; passwordUser: sudo needs its password', async () => {
    const h = host('h1');
    const nopw = await ssh(h, 'sudo -n id -u');
    expect(nopw.code, nopw.stderr).toBe(0);
    expect(nopw.stdout.trim()).toBe('0');

    const refused = await ssh(h, 'sudo -n true', { user: fleet.passwordUser });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/password is required/);

    const withPw = await ssh(h, "sudo -S -p '' id -u", { user: fleet.passwordUser, input: `${fleet.password}\n` });
    expect(withPw.code, withPw.stderr).toBe(0);
    expect(withPw.stdout.trim()).toBe('0');
  });

  it('sftp subsystem works', async () => {
    const h = host('h1');
    const r = await run(
      'sftp',
      ['-F', '/dev/null', '-b', '-', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${fleet.knownHosts}`,
        '-o', 'IdentitiesOnly=yes', '-i', fleet.clientKey, '-P', String(h.port), `${fleet.user}@${h.address}`],
      { input: 'pwd\n', timeoutMs: 20_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`/home/${fleet.user}`);
  });

  it('stopHost refuses connections, hostShell still works, startHost brings it back with the same host key', async () => {
    const h = fleet.hosts[fleet.hosts.length - 1]!;
    await stopHost(fleet, h.name);
    try {
      await expect(readBanner(h.address, h.port, 2000)).rejects.toThrow(/ECONNREFUSED/);
      const down = await ssh(h, 'true');
      expect(down.code).toBe(255);
      expect(down.stderr).toMatch(/Connection refused/);
      const inside = await hostShell(fleet, h.name, 'test -d /srv && echo ok');
      expect(inside.stdout.trim()).toBe('ok');
      // Other hosts are unaffected.
      expect((await ssh(fleet.hosts[0]!, 'true')).code).toBe(0);
    } finally {
      await startHost(fleet, h.name);
    }
    const back = await ssh(h, 'echo back');
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout.trim()).toBe('back');
  });
});

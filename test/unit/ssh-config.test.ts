import { ConfigError } from '../../core/errors.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearSshConfigCache, resolveSshConfig } from '../../core/connection/ssh/ssh-config.js';

let dir: string;
let configFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deployr-sshcfg-'));
  configFile = join(dir, 'config');
  await writeFile(join(dir, 'key'), 'not really a key\n');
  await writeFile(join(dir, 'id_tok.example_deploy'), 'x\n');
  await writeFile(
    join(dir, 'included.conf'),
    [
      'Host inc',
      '  HostName included.example',
      '  IdentitiesOnly yes',
      '  ServerAliveInterval 30',
      '  ServerAliveCountMax 5',
      '  IdentityAgent none',
      '',
    ].join('\n'),
  );
  await writeFile(
    configFile,
    [
      `Include ${join(dir, 'included.conf')}`,
      '',
      'Host web',
      '  HostName 10.0.0.5',
      '  User app',
      '  Port 2200',
      `  IdentityFile ${join(dir, 'key')}`,
      `  IdentityFile ${join(dir, 'missing_key')}`,
      '  ProxyJump bastion',
      `  UserKnownHostsFile ${join(dir, 'kh')} ${join(dir, 'kh2')}`,
      '  StrictHostKeyChecking accept-new',
      '',
      'Host tokens',
      '  HostName tok.example',
      '  User deploy',
      `  IdentityFile ${join(dir, 'id_%h_%r')}`,
      '  UserKnownHostsFile ~/custom_known_hosts',
      '  StrictHostKeyChecking yes',
      '  ProxyJump none',
      '',
      'Host explicitdefault',
      '  IdentityFile ~/.ssh/id_ed25519',
      '',
      'Host multijump',
      '  ProxyJump user@b1:2222,b2',
      '  StrictHostKeyChecking no',
      '',
      // Match host is evaluated against the HostName set above
      'Match host 10.0.0.5',
      '  ConnectTimeout 7',
      '  ServerAliveInterval 15',
      '  User ignored-because-first-value-wins',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => clearSshConfigCache());

describe('resolveSshConfig (real ssh -G)', () => {
  it('resolves Host, Match and first-value-wins like OpenSSH', async () => {
    const c = await resolveSshConfig('web', { configFile });
    expect(c.source).toBe('ssh -G');
    expect(c.hostname).toBe('10.0.0.5');
    expect(c.user).toBe('app');
    expect(c.port).toBe(2200);
    expect(c.identityFiles).toEqual([join(dir, 'key')]);
    expect(c.missingIdentityFiles).toEqual([join(dir, 'missing_key')]);
    expect(c.identitiesOnly).toBe(false);
    expect(c.proxyJump).toBe('bastion');
    expect(c.userKnownHostsFiles).toEqual([join(dir, 'kh'), join(dir, 'kh2')]);
    expect(c.globalKnownHostsFiles.length).toBeGreaterThan(0);
    expect(c.strictHostKeyChecking).toBe('accept-new');
    expect(c.connectTimeout).toBe(7); // from the Match block
    expect(c.serverAliveInterval).toBe(15); // from the Match block
    expect(c.serverAliveCountMax).toBe(3); // OpenSSH default
  });

  it('follows Include', async () => {
    const c = await resolveSshConfig('inc', { configFile });
    expect(c.hostname).toBe('included.example');
    expect(c.identitiesOnly).toBe(true);
    expect(c.serverAliveInterval).toBe(30);
    expect(c.serverAliveCountMax).toBe(5);
    expect(c.identityAgent).toBe('none');
    expect(c.connectTimeout).toBeUndefined(); // 'none' → undefined
    expect(c.proxyJump).toBeUndefined();
  });

  it('a host with only defaults gets no identity files and default values', async () => {
    const c = await resolveSshConfig('plain-host.example', { configFile });
    expect(c.hostname).toBe('plain-host.example');
    expect(c.port).toBe(22);
    expect(c.identityFiles).toEqual([]);
    expect(c.missingIdentityFiles).toBeUndefined();
    expect(c.proxyJump).toBeUndefined();
    expect(c.strictHostKeyChecking).toBe('ask');
    expect(c.user).toBe(userInfo().username);
    // ssh expands ~ with the passwd home directory
    expect(c.userKnownHostsFiles).toEqual([
      join(userInfo().homedir, '.ssh', 'known_hosts'),
      join(userInfo().homedir, '.ssh', 'known_hosts2'),
    ]);
  });

  it('expands %-tokens and ~ in IdentityFile (ssh -G prints them unexpanded)', async () => {
    const c = await resolveSshConfig('tokens', { configFile });
    expect(c.identityFiles).toEqual([join(dir, 'id_tok.example_deploy')]);
    expect(c.userKnownHostsFiles).toEqual([join(userInfo().homedir, 'custom_known_hosts')]);
    expect(c.strictHostKeyChecking).toBe('yes');
    expect(c.proxyJump).toBeUndefined(); // ProxyJump none
  });

  it('keeps an explicitly configured default path (~/.ssh/id_ed25519)', async () => {
    const c = await resolveSshConfig('explicitdefault', { configFile });
    const path = join(userInfo().homedir, '.ssh', 'id_ed25519');
    // explicit, so reported: either present or listed as missing
    expect([...c.identityFiles, ...(c.missingIdentityFiles ?? [])]).toEqual([path]);
  });

  it('raw multi-hop ProxyJump and StrictHostKeyChecking no', async () => {
    const c = await resolveSshConfig('multijump', { configFile });
    expect(c.proxyJump).toBe('user@b1:2222,b2');
    expect(c.strictHostKeyChecking).toBe('no');
  });

  it('memoizes per (alias, configFile)', async () => {
    const a = resolveSshConfig('web', { configFile });
    const b = resolveSshConfig('web', { configFile });
    expect(a).toBe(b);
    const other = resolveSshConfig('inc', { configFile });
    expect(other).not.toBe(a);
    await Promise.all([a, other]);
  });

  it('falls back to defaults when the ssh binary is missing', async () => {
    const c = await resolveSshConfig('some-alias', { sshBinary: '/nonexistent/ssh', configFile });
    expect(c).toEqual({
      hostname: 'some-alias',
      port: 22,
      identityFiles: [],
      identitiesOnly: false,
      userKnownHostsFiles: [join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')],
      globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      source: 'fallback',
    });
  });

  it('a syntax error gives a clear error naming the file and quoting ssh', async () => {
    const bad = join(dir, 'bad_config');
    await writeFile(bad, 'Host x\n  NoSuchOption 1\n');
    const err = await resolveSshConfig('x', { configFile: bad }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain(bad);
    expect(err!.message).toMatch(/Bad configuration option: nosuchoption/i);
    expect((err as ConfigError).hint).toContain('ssh.sshConfigFile');
    expect(err!.message).not.toContain('Pseudo-terminal');
  });

  it('a missing -F file is an error too', async () => {
    const missing = join(dir, 'no_such_config');
    await expect(resolveSshConfig('x', { configFile: missing })).rejects.toThrow(missing);
  });
});

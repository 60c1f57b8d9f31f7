// deployr:bootstrap without hosts: os-release samples, the exact commands of
// each package-manager family, whole bootstraps recorded (fresh host, host
// already bootstrapped, login as root), option validation, keys.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigValidationError, createDeployr, Host, parseOsRelease, RecordingConnection, type Logger, type ScriptedResult } from 'deployr';
import { bootstrap, optionsSchema, type BootstrapOptions } from '../../../plugins/bootstrap/index.js';
import { bootstrapHost, resolveDeployTo } from '../../../plugins/bootstrap/bootstrap-host.js';
import {
  addToGroupCommand,
  basePackages,
  createDeployUserCommand,
  createGroupCommand,
  createRunUserCommand,
  enableKeyLoginCommand,
  ensureDirectoryCommand,
  passwordStateCommand,
} from '../../../plugins/bootstrap/commands.js';
import { loadKeys, mergeAuthorizedKeys } from '../../../plugins/bootstrap/keys.js';
import { planOf, type BootstrapPlan, type ResolvedOptions } from '../../../plugins/bootstrap/options.js';
import { sudoersContent } from '../../../plugins/bootstrap/sudoers.js';
import { parseKeyLine, type PublicKey } from '../../../plugins/bootstrap/validate.js';

const OS_RELEASE = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n',
  ubuntu: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
  rocky: 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n',
  alpine: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n',
  void: 'NAME="Void"\nID="void"\nPRETTY_NAME="Void Linux"\n',
};

// Real public keys, made with ssh-keygen for these tests (the private halves were deleted).
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnQp4nWNVZe7dQ4zFABIcMXKhoyceRgKhfW42SjZxIv alice@laptop';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIBDmb6ZMMrCTqsMIAlJzb7EvhYQPoAHaiC+OzZI8ddh/jJSMh82wyL+Jz44up+bkLCc13S1rAo2hL9c/vFPUZA= ci';

function key(line: string): PublicKey {
  const parsed = parseKeyLine(line);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

describe('the OS family, from /etc/os-release', () => {
  it('Debian and Ubuntu are apt, Rocky is dnf, Alpine is apk', () => {
    expect(parseOsRelease(OS_RELEASE.debian)).toMatchObject({ id: 'debian', packageManager: 'apt', versionId: '12' });
    expect(parseOsRelease(OS_RELEASE.ubuntu)).toMatchObject({ id: 'ubuntu', idLike: ['debian'], packageManager: 'apt' });
    expect(parseOsRelease(OS_RELEASE.rocky)).toMatchObject({ id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], packageManager: 'dnf' });
    expect(parseOsRelease(OS_RELEASE.alpine)).toMatchObject({ id: 'alpine', packageManager: 'apk' });
  });

  it('an unknown family is a clear error naming the OS and the host', () => {
    expect(() => parseOsRelease(OS_RELEASE.void, 'web-1')).toThrow('unsupported OS "Void Linux"');
    expect(() => parseOsRelease('', 'web-1')).toThrow(/unsupported OS "unknown".*ID=\?/);
  });

  it('a bootstrap on an unknown OS fails at its first step, naming it, before changing anything', async () => {
    const { host, connection } = recordedHost('void');
    await expect(bootstrapHost(stepContext(host), { plan: plan(), keys: [], deployTo: '/srv/shop' })).rejects.toThrow(
      'step "os": unsupported OS "Void Linux"',
    );
    expect(connection.commands).toEqual(['id -u', 'cat /etc/os-release']);
  });
});

describe('commands per family', () => {
  const deployUser = { user: 'deploy', home: '/home/deploy', shell: '/bin/sh', group: 'shop' };
  const runUser = { user: 'shop', home: '/srv/shop', group: 'shop' };

  it('apt (Debian, Ubuntu): shadow-utils, /usr/sbin/nologin, python3-venv', () => {
    expect(basePackages('apt', true)).toEqual(['sudo', 'python3', 'python3-venv']);
    expect(createGroupCommand('apt', 'shop').toString()).toBe('groupadd shop');
    expect(createDeployUserCommand('apt', deployUser).toString()).toBe("useradd -m -d /home/deploy -s /bin/sh -U -G shop deploy && usermod -p '*' deploy");
    expect(createRunUserCommand('apt', runUser).toString()).toBe('useradd --system -g shop -N -M -d /srv/shop -s /usr/sbin/nologin shop');
    expect(addToGroupCommand('apt', 'deploy', 'shop').toString()).toBe('usermod -a -G shop deploy');
  });

  it('dnf (RHEL family): shadow-utils, /sbin/nologin, python3 has venv', () => {
    expect(basePackages('dnf', true)).toEqual(['sudo', 'python3']);
    expect(createGroupCommand('dnf', 'shop').toString()).toBe('groupadd shop');
    expect(createDeployUserCommand('dnf', deployUser).toString()).toBe("useradd -m -d /home/deploy -s /bin/sh -U -G shop deploy && usermod -p '*' deploy");
    expect(createRunUserCommand('dnf', runUser).toString()).toBe('useradd --system -g shop -N -M -d /srv/shop -s /sbin/nologin shop');
    expect(enableKeyLoginCommand('dnf', 'deploy').toString()).toBe("usermod -p '*' deploy");
  });

  it('apk (Alpine): BusyBox adduser -D and addgroup, chpasswd -e', () => {
    expect(basePackages('apk', true)).toEqual(['sudo', 'python3']);
    expect(basePackages('apk', false)).toEqual(['sudo']);
    expect(createGroupCommand('apk', 'shop').toString()).toBe('addgroup shop');
    expect(createDeployUserCommand('apk', deployUser).toString()).toBe(
      "adduser -D -h /home/deploy -s /bin/sh deploy && addgroup deploy shop && printf '%s\\n' 'deploy:*' | chpasswd -e",
    );
    expect(createRunUserCommand('apk', runUser).toString()).toBe('adduser -S -D -H -h /srv/shop -s /sbin/nologin -G shop shop');
    expect(addToGroupCommand('apk', 'deploy', 'shop').toString()).toBe('addgroup deploy shop');
  });

  it('directories get a five-digit mode (GNU chmod keeps setgid otherwise) and values are quoted', () => {
    expect(ensureDirectoryCommand('/srv/my shop', 0o2755, 'deploy', 'shop').toString()).toBe(
      "mkdir -p '/srv/my shop' && chown deploy:shop '/srv/my shop' && chmod 02755 '/srv/my shop'",
    );
    expect(ensureDirectoryCommand('/home/deploy/.ssh', 0o700, 'deploy', 'deploy').toString()).toContain('chmod 00700 ');
  });

  it('the password-state probe prints open, unset or locked without printing the hash', () => {
    const script = passwordStateCommand('deploy').toString();
    // Run it for real against a shadow-like file.
    const dir = mkdtempSync(path.join(tmpdir(), 'bootstrap-shadow-'));
    const file = path.join(dir, 'shadow');
    writeFileSync(file, 'a:!:1::::::\nb:!!:1::::::\nc:*:1::::::\nd:$6$salt$hash:1::::::\ne:!$6$salt$hash:1::::::\n');
    const states = ['a', 'b', 'c', 'd', 'e', 'nobody'].map((user) =>
      execSh(passwordStateCommand(user).toString().replace('/etc/shadow', file)).trim(),
    );
    expect(states).toEqual(['unset', 'unset', 'open', 'open', 'locked', '']);
    expect(script).toMatch(/^awk -F: -v u=deploy '.*' \/etc\/shadow$/);
  });
});

// ---------------------------------------------------------------- whole runs, recorded

interface Logged {
  level: string;
  message: string;
}

function stepContext(host: Host, logged: Logged[] = [], dryRun = false) {
  const log: Logger = {
    info: (message) => logged.push({ level: 'info', message }),
    debug: (message) => logged.push({ level: 'debug', message }),
    warn: (message) => logged.push({ level: 'warn', message }),
  };
  return { host, log, dryRun, signal: new AbortController().signal };
}

type Match = string | RegExp;
/** Matches what runs inside `sudo … sh -c '…'` as well as a command run directly. */
const inner = (match: Match) => (command: string) => (typeof match === 'string' ? unwrapped(command).includes(match) : match.test(unwrapped(command)));

/** A recorded host answering `id -u` and os-release, then `answers` (first match wins), then `fallback`. */
function recordedHost(os: keyof typeof OS_RELEASE, uid = '1000', answers: Array<[Match, ScriptedResult]> = [], fallback: Array<[Match, ScriptedResult]> = []) {
  const connection = new RecordingConnection('web-1').respond(/^id -u$/, { stdout: `${uid}\n` }).respond('cat /etc/os-release', { stdout: OS_RELEASE[os] });
  for (const [match, result] of [...answers, ...fallback]) connection.respond(inner(match), result);
  return { host: new Host(connection), connection };
}

function plan(overrides: Partial<ResolvedOptions> = {}): BootstrapPlan {
  const options = { ...(optionsSchema.check({}, 'options', []) as ResolvedOptions), ...overrides };
  return planOf(options, 'shop');
}

/** `sudo -n -H -- sh -c '<script>'` → the script; the random temp names of file writes made stable. */
function unwrapped(command: string): string {
  const sudo = /^sudo -n -H -- sh -c '(.*)'$/s.exec(command);
  const inner = sudo ? (sudo[1] as string).replaceAll(`'\\''`, `'`) : command;
  return inner.replace(/\.deployr-[0-9a-f]{8}/g, '.deployr-TMP');
}

const READS = [/^id -u$/, /^id -Gn /, /^cat \/etc\/os-release$/, /^for p in /, /^getent /, /^awk -F: /, /^stat -L -c /, /^if test -e /, /^if command -v visudo/];
/** What a run changed (or would have): every command that is not one of the reads. */
const changesOf = (connection: RecordingConnection) => connection.commands.map(unwrapped).filter((c) => !READS.some((read) => read.test(c)));

/** A fresh host (no users, group, files; `missing` packages not installed), unless `answers` say otherwise. */
function freshHost(os: keyof typeof OS_RELEASE, missing: string[], uid = '1000', answers: Array<[Match, ScriptedResult]> = []) {
  return recordedHost(os, uid, answers, [
    [/^getent (passwd|group) /, { code: 2 }],
    [/^for p in /, { stdout: missing.map((p) => `${p}\n`).join('') }],
    [/^stat -L -c '%F/, { code: 1, stderr: 'stat: cannot statx: No such file or directory' }],
    [/then stat -L -c '%a %U %G'/, { code: 3 }],
  ]);
}

const shopPlan = () => plan({ authorizedKeys: [ED25519] });

describe('a whole bootstrap, recorded', () => {
  it('apk, fresh host, admin login: the changes in order, through sudo', async () => {
    const { host, connection } = freshHost('alpine', ['sudo', 'python3']);
    const logged: Logged[] = [];
    await bootstrapHost(stepContext(host, logged), { plan: shopPlan(), keys: [key(ED25519)], deployTo: '/srv/shop' });
    expect(connection.commands.filter((c) => !/^(id -u|cat \/etc\/os-release|for p in |getent |id -Gn )/.test(c)).every((c) => c.startsWith('sudo -n -H -- sh -c '))).toBe(true);
    expect(changesOf(connection)).toEqual([
      'apk add --no-cache -q -- sudo python3',
      'addgroup shop',
      "adduser -D -h /home/deploy -s /bin/sh deploy && addgroup deploy shop && printf '%s\\n' 'deploy:*' | chpasswd -e",
      'adduser -S -D -H -h /srv/shop -s /sbin/nologin -G shop shop',
      'mkdir -p /home/deploy/.ssh && chown deploy:deploy /home/deploy/.ssh && chmod 00700 /home/deploy/.ssh',
      'umask 077 && mode=600 && cat > /home/deploy/.ssh/authorized_keys.deployr-TMP && chmod "$mode" /home/deploy/.ssh/authorized_keys.deployr-TMP && chown deploy:deploy /home/deploy/.ssh/authorized_keys.deployr-TMP',
      'mv -f /home/deploy/.ssh/authorized_keys.deployr-TMP /home/deploy/.ssh/authorized_keys',
      'umask 077 && mode=440 && cat > /etc/sudoers.d/deploy.deployr-TMP && chmod "$mode" /etc/sudoers.d/deploy.deployr-TMP && chown root:root /etc/sudoers.d/deploy.deployr-TMP',
      'visudo -cf /etc/sudoers.d/deploy.deployr-TMP >/dev/null',
      'mv -f /etc/sudoers.d/deploy.deployr-TMP /etc/sudoers.d/deploy',
      'mkdir -p /srv/shop && chown deploy:shop /srv/shop && chmod 02755 /srv/shop',
    ]);
    expect(logged.filter((l) => l.level === 'info').map((l) => l.message.split('\n')[0])).toEqual([
      'package sudo: installed',
      'package python3: installed',
      'group shop: created',
      'user deploy: created',
      'user shop: created',
      '~deploy/.ssh: created',
      '~deploy/.ssh/authorized_keys: created',
      '/etc/sudoers.d/deploy: created',
      'deployTo /srv/shop: created',
    ]);
  });

  it('dnf, fresh host, logged in as root: the same steps without sudo (a fresh host may have none)', async () => {
    const { host, connection } = freshHost('rocky', ['sudo'], '0');
    await bootstrapHost(stepContext(host), { plan: plan({ sudoersFile: 'deployers', packages: ['git'] }), keys: [], deployTo: 'apps/shop' });
    expect(connection.commands.some((c) => c.startsWith('sudo '))).toBe(false);
    expect(changesOf(connection)).toEqual([
      'dnf install -y -q -- sudo',
      'groupadd shop',
      "useradd -m -d /home/deploy -s /bin/sh -U -G shop deploy && usermod -p '*' deploy",
      // A relative deployTo is under the deploy user's home, as deploys see it.
      'useradd --system -g shop -N -M -d /home/deploy/apps/shop -s /sbin/nologin shop',
      'umask 077 && mode=440 && cat > /etc/sudoers.d/deployers.deployr-TMP && chmod "$mode" /etc/sudoers.d/deployers.deployr-TMP && chown root:root /etc/sudoers.d/deployers.deployr-TMP',
      'visudo -cf /etc/sudoers.d/deployers.deployr-TMP >/dev/null',
      'mv -f /etc/sudoers.d/deployers.deployr-TMP /etc/sudoers.d/deployers',
      'mkdir -p /home/deploy/apps/shop && chown deploy:shop /home/deploy/apps/shop && chmod 02755 /home/deploy/apps/shop',
    ]);
    // The package query asked for the base packages and the extra one.
    expect(connection.commands.find((c) => c.startsWith('for p in'))).toContain('for p in sudo python3 git;');
  });

  it('apt, a host already bootstrapped: only reads, everything unchanged', async () => {
    const sudoers = sudoersContent(['deploy ALL=(ALL) NOPASSWD: ALL']);
    const { host, connection } = recordedHost('ubuntu', '1000', [
      ['getent passwd deploy', { stdout: 'deploy:x:1001:1001::/home/deploy:/bin/sh\n' }],
      ['getent passwd shop', { stdout: 'shop:x:999:1002::/srv/shop:/usr/sbin/nologin\n' }],
      ['getent group shop', { stdout: 'shop:x:1002:deploy\n' }],
      ['id -Gn deploy', { stdout: 'deploy shop\n' }],
      ['id -Gn shop', { stdout: 'shop\n' }],
      [/^for p in /, { stdout: '' }],
      [/^awk -F: /, { stdout: 'open\n' }],
      ["stat -L -c '%F|%a|%U|%G' /home/deploy/.ssh", { stdout: 'directory|700|deploy|deploy\n' }],
      ["stat -L -c '%F|%a|%U|%G' /srv/shop", { stdout: 'directory|2755|deploy|shop\n' }],
      [/then cat \/home\/deploy\/\.ssh\/authorized_keys; fi/, { stdout: `${ED25519}\n` }],
      [/then stat -L -c '%a %U %G' \/home\/deploy\/\.ssh\/authorized_keys/, { stdout: `600 deploy deploy\n${ED25519}\n` }],
      [/then stat -L -c '%a %U %G' \/etc\/sudoers\.d\/deploy/, { stdout: `440 root root\n${sudoers}` }],
    ]);
    const logged: Logged[] = [];
    await bootstrapHost(stepContext(host, logged), { plan: shopPlan(), keys: [key(ED25519)], deployTo: '/srv/shop' });
    expect(changesOf(connection)).toEqual([]);
    const infos = logged.filter((l) => l.level === 'info').map((l) => l.message);
    expect(infos).toHaveLength(10);
    expect(infos.every((m) => m.endsWith(': unchanged'))).toBe(true);
  });

  it('an existing user is completed, not recreated: joins the group, gets key login; a deliberately locked one is left, with a warning', async () => {
    const { host, connection } = freshHost('debian', [], '1000', [
      ['getent passwd deploy', { stdout: 'deploy:x:1001:1001::/home/deploy:/bin/bash\n' }],
      ['getent passwd shop', { stdout: 'shop:x:999:1002::/srv/shop:/usr/sbin/nologin\n' }],
      ['id -Gn deploy', { stdout: 'deploy\n' }],
      ['id -Gn shop', { stdout: 'nogroup\n' }],
      [/^awk -F: /, { stdout: 'unset\n' }],
    ]);
    const logged: Logged[] = [];
    await bootstrapHost(stepContext(host, logged), { plan: plan({ sudoers: [] }), keys: [], deployTo: undefined });
    expect(changesOf(connection)).toEqual(['groupadd shop', 'usermod -a -G shop deploy', "usermod -p '*' deploy", 'usermod -a -G shop shop']);
    expect(logged.map((l) => l.message)).toContain('user deploy (added to group shop, key login enabled: password field ! → *): updated');

    const locked = freshHost('debian', [], '1000', [
      ['getent passwd deploy', { stdout: 'deploy:x:1001:1001::/home/deploy:/bin/bash\n' }],
      ['id -Gn deploy', { stdout: 'deploy shop\n' }],
      [/^awk -F: /, { stdout: 'locked\n' }],
    ]);
    const warned: Logged[] = [];
    await bootstrapHost(stepContext(locked.host, warned), { plan: plan({ sudoers: [] }), keys: [], deployTo: undefined });
    expect(changesOf(locked.connection)).not.toContain("usermod -p '*' deploy");
    expect(warned.find((l) => l.level === 'warn')?.message).toMatch(/^user deploy is locked \(passwd -l\)/);
  });

  it('deployTo that is a file fails its step, naming the path', async () => {
    const { host } = freshHost('debian', [], '1000', [["stat -L -c '%F|%a|%U|%G' /srv/shop", { stdout: 'regular file|644|root|root\n' }]]);
    await expect(bootstrapHost(stepContext(host), { plan: plan({ sudoers: [] }), keys: [], deployTo: '/srv/shop/' })).rejects.toThrow(
      'step "deployTo": /srv/shop exists but is a regular file, not a directory',
    );
  });

  it('relative deployTo and ~/ resolve against the deploy user\'s home', () => {
    expect(resolveDeployTo('/srv/shop/', '/home/deploy')).toBe('/srv/shop');
    expect(resolveDeployTo('apps/shop', '/home/deploy/')).toBe('/home/deploy/apps/shop');
    expect(resolveDeployTo('~/shop', '/home/deploy')).toBe('/home/deploy/shop');
    expect(resolveDeployTo('~', '/home/deploy')).toBe('/home/deploy');
  });
});

// ---------------------------------------------------------------- options

function problems(options: unknown): string[] {
  try {
    bootstrap(options as BootstrapOptions);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    return [(error as Error).message];
  }
  return [];
}

describe('options', () => {
  it('are all optional, with defaults', () => {
    const plugin = bootstrap();
    expect(plugin.name).toBe('deployr:bootstrap');
    expect(plan()).toEqual({
      deployUser: 'deploy',
      runUser: 'shop',
      group: 'shop',
      authorizedKeys: [],
      exclusiveKeys: false,
      sudoers: ['deploy ALL=(ALL) NOPASSWD: ALL'],
      sudoersFile: 'deploy',
      shell: '/bin/sh',
      python: true,
      packages: [],
      deployToMode: 0o2755,
    });
    expectTypeOf<BootstrapOptions>().toEqualTypeOf<Partial<ResolvedOptions>>();
  });

  it('every problem at once, at the factory call: names, sudoers lines, keys, files, modes, unknown keys', () => {
    expect(
      problems({
        deployUser: 'Deploy',
        runUser: 'app run',
        group: '-wheel',
        sudoers: ['deploy ALL=(ALL) NOPASSWD: ALL\nevil ALL=(ALL) ALL', '   ', 'deploy ALL=(ALL) \\'],
        sudoersFile: 'deploy.conf',
        authorizedKeys: ['ssh-ed25519 AAAAnotbase64!! x', `ssh-rsa ${ED25519.split(' ')[1]} mislabelled`, ''],
        shell: 'bash',
        packages: ['git', 'vim; rm -rf /'],
        deployToMode: 0o20000,
        rolse: ['web'],
      }),
    ).toEqual([
      'options.deployUser: "Deploy" is not a POSIX user or group name: lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters',
      'options.runUser: "app run" is not a POSIX user or group name: lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters',
      'options.group: "-wheel" is not a POSIX user or group name: lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters',
      'options.sudoers[0]: a sudoers rule is one line: no newlines',
      'options.sudoers[1]: a sudoers rule cannot be empty',
      'options.sudoers[2]: a sudoers rule cannot end with \\ (it would continue on the next line)',
      "options.sudoersFile: \"deploy.conf\" cannot name a file in /etc/sudoers.d: letters, digits, _ and - only (sudo skips names with a '.')",
      'options.authorizedKeys[0]: the ssh-ed25519 key data is missing or not base64',
      'options.authorizedKeys[1]: the key data does not hold a whole ssh-rsa key (truncated or mis-pasted?)',
      'options.authorizedKeys[2]: expected a non-empty string, got ""',
      'options.shell: "bash" is not an absolute path to a shell, e.g. /bin/bash',
      'options.packages[1]: "vim; rm -rf /" is not a package name',
      'options.deployToMode: expected an integer from 0 to 4095, got 8192',
      "options.rolse: unknown key — did you mean 'roles'?",
    ]);
    expect(problems({ deployUser: 'a'.repeat(33) })[0]).toContain('at most 32 characters');
    expect(problems({ authorizedKeys: [ED25519, ECDSA, './keys/alice.pub'], sudoers: ['Defaults:deploy !requiretty', 'deploy ALL=(shop) NOPASSWD: ALL'] })).toEqual([]);
  });

  it('the users and the group play distinct parts, checked at the call when given and at apply when defaulted', async () => {
    expect(problems({ deployUser: 'deploy', runUser: 'deploy' })).toEqual([
      'Plugin deployr:bootstrap: runUser and deployUser are both "deploy": the app should not run as the user that deploys it',
    ]);
    expect(problems({ group: 'deploy' })[0]).toContain('group "deploy" is also deployUser\'s name');
    const config = (app: string) => ({ app, plugins: [bootstrap({ deployUser: 'shop' })], environments: { prod: { hosts: ['web-1'] } } });
    await expect(createDeployr({ config: config('shop'), environment: 'prod' })).rejects.toThrow('runUser and deployUser are both "shop"');
    await expect(createDeployr({ config: config('My Shop'), environment: 'prod' })).rejects.toThrow(
      /\[deployr:bootstrap\] failed in "apply".*runUser defaults to the config's app, but "My Shop" is not a POSIX user or group name.*set runUser/,
    );
  });

  it('register `bootstrap` (with roles), and bootstrap:first-deploy only with beforeFirstDeploy', async () => {
    const make = (options: BootstrapOptions) => createDeployr({ config: { app: 'shop', plugins: [bootstrap(options)], environments: { prod: { hosts: ['web-1'] } } }, environment: 'prod' });
    const plain = await make({});
    expect(plain.getTask('bootstrap')).toMatchObject({ plugin: 'deployr:bootstrap' });
    expect(plain.getTask('bootstrap')?.roles).toBeUndefined();
    expect(plain.getTask('bootstrap:first-deploy')).toBeUndefined();
    const first = await make({ roles: ['web'], beforeFirstDeploy: true });
    expect(first.getTask('bootstrap')?.roles).toEqual(['web']);
    expect(first.getTask('bootstrap:first-deploy')).toMatchObject({ roles: ['web'], plugin: 'deployr:bootstrap' });
  });

  it('never bootstraps this machine: `bootstrap` on a local environment fails before any command, a first deploy skips it', async () => {
    const config = {
      app: 'shop',
      deployTo: 'deployed',
      plugins: [bootstrap({ beforeFirstDeploy: true })],
      environments: { here: { connect: 'local' as const } },
    };
    const deployr = await createDeployr({ config, environment: 'here', root: mkdtempSync(path.join(tmpdir(), 'bootstrap-local-')) });
    const commands: string[] = [];
    deployr.on((event) => {
      if (event.type === 'command:start') commands.push(event.command);
    });
    const refused = await deployr.run('bootstrap');
    expect(refused.exitCode).toBe(1);
    expect(String((refused.errors.get('local') as Error).message)).toBe(
      '[deployr:bootstrap] failed in task "bootstrap" on local: environment "here" runs on this machine (connect: \'local\'): bootstrap would change its users and sudo rules',
    );
    expect((await deployr.run('bootstrap:first-deploy')).ok).toBe(true);
    expect(commands).toEqual([]);
  });

  it('README lists every option, and only those', () => {
    const readme = readFileSync(new URL('../../../plugins/bootstrap/README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Options'));
    const documented = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(optionsSchema.shape));
  });
});

// ---------------------------------------------------------------- keys

describe('keys', () => {
  it('come from key lines and .pub files (comments, blank lines, duplicates skipped); a private key or a bad line is refused', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bootstrap-keys-'));
    writeFileSync(path.join(dir, 'team.pub'), `# the team\n${ECDSA}\n\n${ED25519.replace('alice@laptop', 'alice@desk')}\n`);
    writeFileSync(path.join(dir, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn…\n-----END OPENSSH PRIVATE KEY-----\n');
    writeFileSync(path.join(dir, 'bad.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDnQp4nW\n');
    const keys = await loadKeys([ED25519, 'team.pub'], dir);
    expect(keys.map((k) => k.line)).toEqual([ED25519, ECDSA]);
    await expect(loadKeys(['id_ed25519'], dir)).rejects.toThrow(`authorizedKeys[0]: ${path.join(dir, 'id_ed25519')} is a private key`);
    await expect(loadKeys(['x', 'bad.pub'], dir)).rejects.toThrow(`authorizedKeys[0]: cannot read ${path.join(dir, 'x')}: ENOENT`);
    await expect(loadKeys(['bad.pub'], dir)).rejects.toThrow(`authorizedKeys[0]: ${path.join(dir, 'bad.pub')} line 1: the key data does not hold a whole ssh-ed25519 key`);
  });

  it('are added to what authorized_keys has (other keys, options and comments kept), or replace it with exclusiveKeys', () => {
    const mine = [key(ED25519), key(ECDSA)];
    const current = `# admins\nfrom="10.0.0.0/8",no-pty ${ECDSA.replace(' ci', ' ci-old')}\nssh-rsa AAAAB3NzaC1yc2E bob`;
    expect(mergeAuthorizedKeys(current, mine, false)).toBe(`${current}\n${ED25519}\n`);
    expect(mergeAuthorizedKeys(`${current}\n${ED25519}\n`, mine, false)).toBe(`${current}\n${ED25519}\n`);
    expect(mergeAuthorizedKeys('', mine, false)).toBe(`${ED25519}\n${ECDSA}\n`);
    expect(mergeAuthorizedKeys(current, mine, true)).toBe(`${ED25519}\n${ECDSA}\n`);
  });
});

function execSh(script: string): string {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' });
}

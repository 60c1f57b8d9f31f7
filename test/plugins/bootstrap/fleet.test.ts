// deployr:bootstrap on real hosts (h3 and h4 only; each has its own /etc,
// /usr, /var and /home, so users, sudoers and packages stay on that host).
// h3: a dry run on a fresh host, the bootstrap itself (a real package
// install included), the new user logging in with its key and deploying,
// the second run changing nothing, a sudoers rule visudo rejects.
// h4: beforeFirstDeploy on a host whose deployTo does not exist yet.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FleetHost, FleetState } from '../../fleet/fleet.js';
import { useFleet } from '../../fleet/use-fleet.js';
import { bootstrapProject, changes, events, type BootstrapProject } from './project.js';

let fleet: FleetState;
let h3: FleetHost;
let h4: FleetHost;
let project: BootstrapProject;
let names: { deployUser: string; runUser: string; group: string; deployTo: string; home: string; sudoers: string };
let pubKey: string;

const options = (extra = '') =>
  `{ deployUser: '${names.deployUser}', runUser: '${names.runUser}', group: '${names.group}', authorizedKeys: [${JSON.stringify(`${fleet.clientKey}.pub`)}], packages: ['supervisor'], ${extra} }`;

/** What a bootstrap could change on h3, down to inodes and mtimes. */
const snapshot = async (host = 'h3') =>
  (
    await project.sh(
      host,
      `cd / && stat -c '%n %i %Y %Z %s %a %U %G' /etc/passwd /etc/group /etc/shadow /etc/gshadow ${names.sudoers} ${names.home} ${names.home}/.ssh ${names.home}/.ssh/authorized_keys ${names.deployTo} 2>&1; ` +
        // Other fleets' drop-ins come and go in the machine's /etc, under every host's.
        `md5sum /etc/passwd /etc/group /etc/shadow /etc/gshadow; ls -A /etc/sudoers.d | grep -v -- '-fleet$'; ls -A /home; dpkg -s supervisor >/dev/null 2>&1 && echo supervisor-installed || echo supervisor-missing`,
    )
  ).stdout;

beforeAll(async () => {
  fleet = useFleet();
  h3 = fleet.hosts.find((h) => h.name === 'h3') as FleetHost;
  h4 = fleet.hosts.find((h) => h.name === 'h4') as FleetHost;
  pubKey = readFileSync(`${fleet.clientKey}.pub`, 'utf8').trim();
  const tag = Math.random().toString(16).slice(2, 8);
  const deployUser = `b${tag}-deploy`;
  names = { deployUser, runUser: `b${tag}-run`, group: `b${tag}`, deployTo: `/srv/b${tag}/app`, home: `/home/${deployUser}`, sudoers: `/etc/sudoers.d/${deployUser}` };
  project = bootstrapProject(fleet, [h3], deployUser, names.deployTo);
  project.configure(options());
  // This fleet may have run this file before: supervisor must be missing for the install below to be real.
  await project.sh('h3', 'if dpkg -s supervisor >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -q supervisor >/dev/null 2>&1; fi');
}, 60_000);

// Slow machine, shared cores: generous limits, nothing timed.
describe('deployr bootstrap on a fresh Debian host', { timeout: 120_000 }, () => {
  it('--dry-run reads the host and shows what it would create, diffs included, and changes nothing', async () => {
    const before = await snapshot();
    expect(before).toContain('supervisor-missing');
    const { code, stdout, stderr } = await project.cli(['bootstrap', 'admin', '--dry-run', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(changes(stdout).map((c) => `${c.what}: ${c.status}${c.predicted ? ' (predicted)' : ''}`)).toEqual([
      'package sudo: unchanged',
      'package python3: unchanged',
      'package python3-venv: unchanged',
      'package supervisor: installed (predicted)',
      `group ${names.group}: created (predicted)`,
      `user ${names.deployUser}: created (predicted)`,
      `user ${names.runUser}: created (predicted)`,
      `~${names.deployUser}/.ssh: created (predicted)`,
      `~${names.deployUser}/.ssh/authorized_keys: created (predicted)`,
      `${names.sudoers}: created (predicted)`,
      `deployTo ${names.deployTo}: created (predicted)`,
    ]);
    const messages = events(stdout).flatMap((e) => (e['type'] === 'log' ? [String(e['message'])] : []));
    expect(messages).toContain(`would create user ${names.deployUser}`);
    expect(messages.find((m) => m.startsWith(`would create ${names.sudoers}`))).toContain(`+${names.deployUser} ALL=(ALL) NOPASSWD: ALL`);
    expect(messages.find((m) => m.startsWith(`would create ~${names.deployUser}/.ssh/authorized_keys`))).toContain(`+${pubKey}`);
    // The commands it would run are shown, not run.
    const commands = events(stdout).flatMap((e) => (e['type'] === 'command:start' ? [String(e['command'])] : []));
    expect(commands.some((c) => c.includes(`useradd -m -d ${names.home} -s /bin/sh -U -G ${names.group} ${names.deployUser}`))).toBe(true);
    expect(await snapshot()).toBe(before);
  });

  it('creates the users, group, key, sudo rule, deployTo and packages; the deploy user logs in with its key and sudo works', async () => {
    const { code, stdout, stderr } = await project.cli(['bootstrap', 'admin', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(changes(stdout).map((c) => `${c.what}: ${c.status}`)).toEqual([
      'package sudo: unchanged',
      'package python3: unchanged',
      'package python3-venv: unchanged',
      'package supervisor: installed',
      `group ${names.group}: created`,
      `user ${names.deployUser}: created`,
      `user ${names.runUser}: created`,
      `~${names.deployUser}/.ssh: created`,
      `~${names.deployUser}/.ssh/authorized_keys: created`,
      `${names.sudoers}: created`,
      `deployTo ${names.deployTo}: created`,
    ]);
    const { deployUser, runUser, group, home, deployTo, sudoers } = names;
    const state = await project.sh(
      'h3',
      [
        `getent passwd ${deployUser} | cut -d: -f6,7`,
        `id -gn ${deployUser}; id -Gn ${deployUser}`,
        `getent passwd ${runUser} | cut -d: -f6,7; id -gn ${runUser}; id -Gn ${runUser}`,
        `getent shadow ${deployUser} | cut -d: -f2`,
        `stat -c '%a %U %G' ${home}/.ssh ${home}/.ssh/authorized_keys ${sudoers} ${deployTo}`,
        `cat ${home}/.ssh/authorized_keys ${sudoers}`,
        'visudo -c >/dev/null && echo visudo-ok',
        `dpkg-query -W -f='\${Status}\\n' supervisor`,
      ].join('; '),
    );
    expect(state.stdout.split('\n')).toEqual([
      `${home}:/bin/sh`,
      deployUser,
      `${deployUser} ${group}`,
      `${deployTo}:/usr/sbin/nologin`,
      group,
      group,
      '*',
      `700 ${deployUser} ${deployUser}`,
      `600 ${deployUser} ${deployUser}`,
      '440 root root',
      `2755 ${deployUser} ${group}`,
      pubKey,
      '# Managed by deployr:bootstrap: edits here are replaced by the next bootstrap.',
      `${deployUser} ALL=(ALL) NOPASSWD: ALL`,
      'visudo-ok',
      'install ok installed',
      '',
    ]);

    // OpenSSH's own client, with the fleet's key only: the new user logs in, and sudo -n works per its rule.
    const login = await ssh(h3, deployUser, 'id -un; id -Gn; sudo -n true && echo sudo-ok; sudo -n -l | grep -c NOPASSWD');
    expect(login.stdout).toBe(`${deployUser}\n${deployUser} ${group}\nsudo-ok\n1\n`);
  });

  it('the deploy user deploys into deployTo; the run user reads the release through the group', async () => {
    const { code, stderr } = await project.cli(['deploy', 'app']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const check = await project.sh(
      'h3',
      `cd ${names.deployTo} && stat -c '%U %G' current/ current/index.html && sudo -u ${names.runUser} cat current/index.html && sudo -u ${names.runUser} touch current/x 2>/dev/null || echo cannot-write`,
    );
    expect(check.stdout).toBe(`${names.deployUser} ${names.group}\n${names.deployUser} ${names.group}\n<h1>bootstrapped</h1>\ncannot-write\n`);
  });

  it('a second bootstrap reports every step unchanged and touches nothing', async () => {
    const before = await snapshot();
    const { code, stdout, stderr } = await project.cli(['bootstrap', 'admin', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const reported = changes(stdout);
    expect(reported).toHaveLength(11);
    expect(reported.filter((c) => c.status !== 'unchanged')).toEqual([]);
    // Only reads ran as root: no useradd, no file written, no package installed.
    const sudo = events(stdout).flatMap((e) => (e['type'] === 'command:start' && String(e['command']).startsWith('sudo ') ? [String(e['command'])] : []));
    expect(sudo.filter((c) => !/sh -c '(stat -L -c|if test -e|awk -F:)/.test(c))).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('a sudoers rule visudo rejects fails the sudoers step, naming host and step; the old file stays, no temp file is left', async () => {
    const before = await snapshot();
    // One line, so it passes the plugin's own check; visudo wants a fully-qualified path.
    project.configure(options(`sudoers: ['${names.deployUser} ALL=(ALL) NOPASSWD: ALL', '${names.deployUser} ALL=(${names.runUser}) NOPASSWD: bin/restart'],`));

    const dry = await project.cli(['bootstrap', 'admin', '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain(`[deployr:bootstrap] failed in task "bootstrap" on h3: step "sudoers": ${names.sudoers} would fail visudo's check`);

    const { code, stderr } = await project.cli(['bootstrap', 'admin']);
    expect(code).toBe(1);
    expect(stderr).toContain(`[deployr:bootstrap] failed in task "bootstrap" on h3: step "sudoers": ${names.sudoers} was not changed: the new content failed its check:`);
    expect(stderr).toContain(`${names.sudoers}:3:`);
    expect(stderr).toContain('expected a fully-qualified path name');
    expect(stderr).toContain('the file on the host is as it was');
    expect(await snapshot()).toBe(before);
    expect((await project.sh('h3', 'ls -A /etc/sudoers.d | grep -c deployr-; visudo -c >/dev/null && echo visudo-ok')).stdout).toBe('0\nvisudo-ok\n');
    project.configure(options());
  });
});

describe('beforeFirstDeploy', { timeout: 120_000 }, () => {
  it('deploy bootstraps a host without deployTo before locking it, then deploys; the next deploy skips bootstrap', async () => {
    const tag = names.group;
    // The fleet's /srv belongs to its login user; this parent is root's, as /srv is on a fresh server.
    const parent = `/srv/${tag}-root`;
    const deployTo = `${parent}/app`;
    // The fleet's login user is the deploy user here: it has sudo for the first deploy and owns deployTo afterwards.
    const first = bootstrapProject(fleet, [h4], fleet.user, deployTo);
    const bootstrapOptions = `{ deployUser: '${fleet.user}', runUser: '${tag}-run4', group: '${tag}-g4', sudoers: [] }`;
    expect((await first.sh('h4', `mkdir -m 755 ${parent} && chown root:root ${parent} && stat -c %U ${parent}; test -e ${deployTo} || echo missing`)).stdout).toBe('root\nmissing\n');

    // Without it, the deploy user cannot create deployTo under root's /srv.
    first.configure(bootstrapOptions);
    const refused = await first.cli(['deploy', 'admin']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Permission denied');

    first.configure(bootstrapOptions.replace(' }', ', beforeFirstDeploy: true }'));
    const { code, stdout, stderr } = await first.cli(['deploy', 'admin', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const starts = events(stdout).flatMap((e) => (e['type'] === 'task:start' ? [String(e['task'])] : []));
    expect(starts.slice(0, 2)).toEqual(['bootstrap:first-deploy', 'deploy:lock']);
    expect(changes(stdout).map((c) => `${c.what}: ${c.status}`)).toEqual([
      'package sudo: unchanged',
      'package python3: unchanged',
      'package python3-venv: unchanged',
      `group ${tag}-g4: created`,
      // An existing user is completed, never recreated.
      `user ${fleet.user} (added to group ${tag}-g4): updated`,
      `user ${tag}-run4: created`,
      `deployTo ${deployTo}: created`,
    ]);
    const layout = await first.sh('h4', `cd ${deployTo} && stat -c '%a %U %G' . && readlink current && cat current/index.html`);
    expect(layout.stdout).toMatch(new RegExp(`^2755 ${fleet.user} ${tag}-g4\nreleases/\\S+\n<h1>bootstrapped</h1>\n$`));

    const again = await first.cli(['deploy', 'admin', '--json']);
    expect(again.code).toBe(0);
    expect(changes(again.stdout)).toEqual([]);
    expect(events(again.stdout).some((e) => e['type'] === 'log' && String(e['message']).endsWith('exists: bootstrapped already'))).toBe(true);
  });
});

function ssh(host: FleetHost, user: string, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const args = [
    '-i', fleet.clientKey,
    '-o', `UserKnownHostsFile=${fleet.knownHosts}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=20',
    '-F', '/dev/null',
    '-p', String(host.port),
    `${user}@${host.address}`,
    command,
  ];
  return new Promise((resolve) => {
    execFile('ssh', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

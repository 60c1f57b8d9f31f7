// A fleet of real OpenSSH servers on this machine, for integration tests.
//
// Each host is:
// - an "anchor" process (`sleep infinity`, argv[0] = a tag we can find in /proc)
//   that owns the host's namespaces: its own mount namespace (private
//   propagation: its own /etc, /usr, /var as overlays, /run, /srv, /home; see
//   hostMounts()) and, in netns mode, its own network namespace on a bridge;
// - an sshd started inside the anchor's namespaces with nsenter. Stopping sshd
//   leaves the anchor, so hostShell() and startHost() keep working.
//
// Everything is named from the config prefix and lives under the config dir;
// cleanup only ever touches those (see procs.ts for how processes are matched).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { waitForBanner, readBanner } from './banner.js';
import { fleetNames, hostAddress, IFNAME_MAX, loadFleetConfig, MAX_HOSTS, type FleetConfig } from './config.js';
import { run, runOk, type RunResult } from './exec.js';
import { createBridge, createHostNetns, deleteLink, deleteNetns, listOurLinks, listOurNetns } from './network.js';
import { isAlive, killVerified, nsOf, pidsInNamespaces, pidsWhere, readArgv, sleep } from './procs.js';
import { ensureUsers, installSudoers, removeSudoers, type Ids } from './users.js';

export interface FleetHost {
  name: string /* 'h1'..'hN' */;
  address: string;
  port: number;
  netns?: string;
  root: string /* this host's dir on the real fs */;
  anchorPid: number;
  sshdPidFile: string;
}

export interface FleetState {
  version: 1;
  prefix: string;
  mode: 'netns' | 'loopback';
  dir: string;
  user: string; // 'deploy': key login, passwordless sudo (NOPASSWD: ALL)
  password: string; // random password of `user` (so password auth can be tested; PasswordAuthentication yes)
  passwordUser: string; // `${user}_pw`: key login too, sudo REQUIRES its password (`ALL=(ALL) ALL`), same password as `password`
  clientKey: string; // path to ed25519 private key (no passphrase) authorized for both users
  passphraseKey: { path: string; passphrase: string }; // second ed25519 key, passphrase-protected, also authorized
  unauthorizedKey: string; // third ed25519 key, NOT authorized (for refused-auth tests)
  knownHosts: string; // path to a known_hosts file with every host's ed25519 host key: `addr` when port 22, `[addr]:port` otherwise
  hosts: FleetHost[];
}

/** What state.json holds: FleetState plus bookkeeping that tests don't need. */
interface StoredState extends FleetState {
  /** Users created by the `up` that wrote this file (they are left in place by `down`, see users.ts). */
  createdUsers: string[];
  startedAt: string;
}

export type { RunResult };

/** Marks a dir as ours: `down` only deletes a dir recursively if this file is in it. */
const DIR_MARKER = '.deployr-fleet';
const SSHD = '/usr/sbin/sshd';
const READY_TIMEOUT_MS = 10_000;
const ANCHOR_TIMEOUT_MS = 5_000;

export function fleetStatePath(dir: string): string {
  return path.join(dir, 'state.json');
}

/**
 * Read the state of a running fleet. `dirOrFile` may be the fleet dir or the
 * state.json path; default: $DEPLOYR_FLEET_STATE (set by the vitest global
 * setup), else the configured dir.
 */
export function readFleetState(dirOrFile?: string): FleetState {
  const file = dirOrFile
    ? dirOrFile.endsWith('.json')
      ? dirOrFile
      : fleetStatePath(dirOrFile)
    : process.env.DEPLOYR_FLEET_STATE || fleetStatePath(loadFleetConfig().dir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`No deployr test fleet is running (no ${file}). Start one with: npm run fleet -- up 4`);
  }
  const state = JSON.parse(text) as FleetState;
  if (state.version !== 1) {
    throw new Error(`${file} has state version ${String(state.version)}, expected 1: run npm run fleet -- down && npm run fleet -- up 4`);
  }
  return state;
}

// ---------------------------------------------------------------- up

export interface FleetUpOptions {
  /** Progress/warning lines (default: warnings to stderr only). */
  log?: (line: string) => void;
}

export async function fleetUp(count: number, opts: FleetUpOptions = {}): Promise<FleetState> {
  const cfg = loadFleetConfig();
  assertRoot();
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new Error(`host count must be an integer from 1 to ${MAX_HOSTS}, got ${count}`);
  }
  const longest = fleetNames(cfg).veth(count);
  if (longest.length > IFNAME_MAX) {
    throw new Error(`interface name ${longest} would exceed ${IFNAME_MAX} characters: use a shorter DEPLOYR_FLEET_PREFIX`);
  }
  const log = opts.log ?? ((line: string) => process.stderr.write(`[fleet] ${line}\n`));

  await cleanup(cfg); // leftovers of a previous (possibly killed) run with our prefix
  try {
    return await bringUp(cfg, count, log);
  } catch (err) {
    // Leave nothing half-built behind; the error already carries sshd.log tails.
    await cleanup(cfg).catch(() => {});
    throw err;
  }
}

interface HostPlan {
  i: number;
  name: string;
  address: string;
  port: number;
  root: string;
}

async function bringUp(cfg: FleetConfig, count: number, log: (line: string) => void): Promise<FleetState> {
  prepareDir(cfg.dir);
  const keysDir = path.join(cfg.dir, 'keys');
  const akDir = path.join(cfg.dir, 'authorized_keys');
  mkdirSync(keysDir, { mode: 0o700 });
  mkdirSync(akDir, { mode: 0o755 });

  const mode = await chooseMode(cfg, log);
  const plans: HostPlan[] = [];
  for (let i = 1; i <= count; i++) {
    const name = `h${i}`;
    const root = path.join(cfg.dir, name);
    for (const sub of ['', 'srv', 'home', 'home_pw', 'homes', ...OVERLAID.flatMap((d) => [`ov/${d}/upper`, `ov/${d}/work`])]) {
      mkdirSync(path.join(root, sub), { recursive: true, mode: 0o755 });
    }
    plans.push({ i, name, root, ...hostAddress(cfg, mode, i) });
  }

  // Users and every key at once: ssh-keygen (rsa especially) is the slow part.
  const clientKey = path.join(keysDir, 'client');
  const passphraseKey = { path: path.join(keysDir, 'passphrase'), passphrase: randomBytes(12).toString('hex') };
  const unauthorizedKey = path.join(keysDir, 'unauthorized');
  const [users] = await Promise.all([
    ensureUsers(cfg),
    keygen(clientKey, 'ed25519', '', `${cfg.prefix}-fleet-client`),
    keygen(passphraseKey.path, 'ed25519', passphraseKey.passphrase, `${cfg.prefix}-fleet-passphrase`),
    keygen(unauthorizedKey, 'ed25519', '', `${cfg.prefix}-fleet-unauthorized`),
    ...plans.flatMap((h) => [
      keygen(path.join(h.root, 'ssh_host_ed25519_key'), 'ed25519', '', `${cfg.prefix}-${h.name}`),
      keygen(path.join(h.root, 'ssh_host_rsa_key'), 'rsa', '', `${cfg.prefix}-${h.name}`),
    ]),
  ]);
  const passwordUser = `${cfg.user}_pw`;
  const own = (p: string, ids: Ids | undefined) => ids && chownSync(p, ids.uid, ids.gid);
  for (const h of plans) {
    // deploy can write its /srv and home without sudo; deploy_pw has its own home.
    own(path.join(h.root, 'srv'), users.ids[cfg.user]);
    own(path.join(h.root, 'home'), users.ids[cfg.user]);
    own(path.join(h.root, 'home_pw'), users.ids[passwordUser]);
  }

  // Both users accept the plain and the passphrase key; never the unauthorized one.
  const authorized = [clientKey, passphraseKey.path].map((k) => readFileSync(`${k}.pub`, 'utf8').trim()).join('\n') + '\n';
  for (const u of [cfg.user, passwordUser]) writeFileSync(path.join(akDir, u), authorized, { mode: 0o644 });

  // known_hosts: ed25519 only (what the tests pin); known_hosts_all: both key types.
  const knownHosts = path.join(cfg.dir, 'known_hosts');
  const hostPattern = (h: HostPlan) => (h.port === 22 ? h.address : `[${h.address}]:${h.port}`);
  const pub = (h: HostPlan, type: string) =>
    readFileSync(path.join(h.root, `ssh_host_${type}_key.pub`), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  writeFileSync(knownHosts, plans.map((h) => `${hostPattern(h)} ${pub(h, 'ed25519')}\n`).join(''));
  writeFileSync(
    path.join(cfg.dir, 'known_hosts_all'),
    plans.map((h) => `${hostPattern(h)} ${pub(h, 'ed25519')}\n${hostPattern(h)} ${pub(h, 'rsa')}\n`).join(''),
  );

  await installSudoers(cfg, cfg.dir);

  // Mount points on the real fs (empty dirs; each host mounts its own over them)
  // and sshd's privilege separation dir.
  for (const d of ['/run/sshd', '/srv', `/home/${cfg.user}`, `/home/${passwordUser}`]) {
    mkdirSync(d, { recursive: true, mode: 0o755 });
  }

  const hosts = await Promise.all(plans.map((h) => startNewHost(cfg, mode, h)));

  const state: StoredState = {
    version: 1,
    prefix: cfg.prefix,
    mode,
    dir: cfg.dir,
    user: cfg.user,
    password: users.password,
    passwordUser,
    clientKey,
    passphraseKey,
    unauthorizedKey,
    knownHosts,
    hosts,
    createdUsers: users.created,
    startedAt: new Date().toISOString(),
  };
  // Atomic, and 0600: it holds a password that can sudo.
  const file = fleetStatePath(cfg.dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  return state;
}

function assertRoot() {
  if (process.getuid?.() !== 0) {
    throw new Error('the test fleet needs root (namespaces, useradd, sudoers): run it as root');
  }
}

/** Create the dir (with our marker), refusing to take over a non-empty dir that is not ours. */
function prepareDir(dir: string) {
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(path.join(dir, DIR_MARKER))) {
    throw new Error(`${dir} exists and is not a deployr fleet dir; set DEPLOYR_FLEET_DIR to a new path`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // sshd reads authorized_keys as the login user: every level must be traversable.
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, DIR_MARKER), 'Created by deployr test/fleet; deleted by `npm run fleet -- down`.\n');
}

async function chooseMode(cfg: FleetConfig, log: (line: string) => void): Promise<'netns' | 'loopback'> {
  if (cfg.mode === 'loopback') return 'loopback';
  const n = fleetNames(cfg);
  try {
    await createBridge(cfg);
    // Probe netns creation too, so auto mode falls back before any host is built.
    await runOk('ip', ['netns', 'add', n.netns(0)]);
    await deleteNetns(n.netns(0));
    return 'netns';
  } catch (err) {
    await deleteNetns(n.netns(0)).catch(() => {});
    await deleteLink(n.bridge).catch(() => {});
    if (cfg.mode === 'netns') throw err;
    log(`netns mode unavailable (${(err as Error).message}); falling back to loopback mode`);
    return 'loopback';
  }
}

function keygen(file: string, type: 'ed25519' | 'rsa', passphrase: string, comment: string): Promise<string> {
  const args = ['-q', '-t', type, '-N', passphrase, '-C', comment, '-f', file];
  if (type === 'rsa') args.splice(3, 0, '-b', '2048');
  return runOk('ssh-keygen', args);
}

async function startNewHost(cfg: FleetConfig, mode: 'netns' | 'loopback', h: HostPlan): Promise<FleetHost> {
  const netns = mode === 'netns' ? await createHostNetns(cfg, h.i, h.address) : undefined;
  const anchorPid = await spawnAnchor(fleetNames(cfg).anchorTag(h.name), h.root, netns);

  // Mounts inside the anchor's (private) mount namespace only: see hostMounts().
  await runOk('nsenter', ['-t', String(anchorPid), '-m', 'sh', '-c', hostMounts(cfg), 'sh', h.root]);

  const host: FleetHost = {
    name: h.name,
    address: h.address,
    port: h.port,
    ...(netns ? { netns } : {}),
    root: h.root,
    anchorPid,
    sshdPidFile: path.join(h.root, 'sshd.pid'),
  };
  writeFileSync(sshdConfigPath(host), sshdConfig(cfg, host));
  await launchSshd(host);
  return host;
}

/**
 * Start `sleep infinity` (argv[0] = tag) in a new mount namespace with private
 * propagation, inside `netns` if given. It is detached so it outlives the CLI
 * that started it. nsenter, unshare and bash all exec, so the pid we get is the
 * pid of the final sleep.
 */
async function spawnAnchor(tag: string, root: string, netns: string | undefined): Promise<number> {
  const logFile = path.join(root, 'anchor.log');
  const fd = openSync(logFile, 'w');
  const inner = ['unshare', '-m', '--propagation', 'private', 'bash', '-c', 'exec -a "$0" sleep infinity', tag];
  const argv = netns ? ['nsenter', `--net=/run/netns/${netns}`, ...inner] : inner;
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let failure: string | undefined;
  child.on('error', (e) => (failure = e.message));
  child.on('exit', (code, signal) => (failure = `exited with ${code ?? signal}`));
  child.unref();

  const deadline = Date.now() + ANCHOR_TIMEOUT_MS;
  for (;;) {
    const pid = child.pid;
    if (pid && readArgv(pid)?.[0] === tag) return pid;
    if (failure || Date.now() > deadline) {
      const why = failure ?? `not ready after ${ANCHOR_TIMEOUT_MS} ms`;
      throw new Error(`anchor ${tag} (${argv.join(' ')}) ${why}: ${readFileSync(logFile, 'utf8').trim()}`);
    }
    await sleep(5);
  }
}

/** Directories each host sees as its own copy-on-write layer over the machine's (overlayfs). */
const OVERLAID = ['etc', 'usr', 'var'] as const;

/**
 * What makes a host a machine of its own, for tests that install packages,
 * create users, write /etc or run services: its own /etc, /usr and /var
 * (overlays: the machine's files below, the host's changes in
 * <root>/ov/<dir>/upper), its own /run (a tmpfs: sockets and pid files of
 * its services), its own /home, /srv and the two users' homes. $1 is the
 * host's root dir. Everything else (/tmp, /root, the process table) is shared.
 */
function hostMounts(cfg: FleetConfig): string {
  const user = cfg.user;
  return [
    'set -e',
    'R="$1"',
    ...OVERLAID.map((d) => `mount -t overlay ${cfg.prefix}-${d} -o "lowerdir=/${d},upperdir=$R/ov/${d}/upper,workdir=$R/ov/${d}/work" /${d}`),
    `mount -t tmpfs -o mode=755,size=64m ${cfg.prefix}-run /run`,
    'mkdir -p /run/sshd /run/lock && chmod 1777 /run/lock',
    'mount --bind "$R/srv" /srv',
    'mount --bind "$R/homes" /home',
    `mkdir -p /home/${user} /home/${user}_pw`,
    `mount --bind "$R/home" /home/${user}`,
    `mount --bind "$R/home_pw" /home/${user}_pw`,
  ].join('\n');
}

function sshdConfigPath(h: FleetHost) {
  return path.join(h.root, 'sshd_config');
}
function sshdLogPath(h: FleetHost) {
  return path.join(h.root, 'sshd.log');
}

function sshdConfig(cfg: FleetConfig, h: FleetHost): string {
  // MaxSessions / MaxStartups deliberately left at OpenSSH defaults (10, 10:30:100):
  // the client must cope with what real servers do.
  return [
    `# Generated by deployr test/fleet for ${h.name} (prefix ${cfg.prefix}); rewritten by every \`fleet up\`.`,
    `Port ${h.port}`, // before ListenAddress, which then uses it
    `ListenAddress ${h.address}`,
    `HostKey ${path.join(h.root, 'ssh_host_ed25519_key')}`,
    `HostKey ${path.join(h.root, 'ssh_host_rsa_key')}`,
    `PidFile ${h.sshdPidFile}`,
    // The fleet's keys for its two users, and a user's own file (users a test creates on one host).
    `AuthorizedKeysFile ${path.join(cfg.dir, 'authorized_keys')}/%u .ssh/authorized_keys`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    'AllowTcpForwarding yes',
    'AllowAgentForwarding yes',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** Start sshd (daemon mode) in the anchor's namespaces and wait for its banner. */
async function launchSshd(h: FleetHost): Promise<void> {
  rmSync(h.sshdPidFile, { force: true });
  const r = await run(
    'nsenter',
    ['-t', String(h.anchorPid), '-m', '-n', SSHD, '-f', sshdConfigPath(h), '-E', sshdLogPath(h)],
    { timeoutMs: READY_TIMEOUT_MS },
  );
  if (r.code !== 0) {
    throw new Error(`sshd of ${h.name} failed to start (exit ${r.code}): ${r.stderr.trim()}${logTail(h)}`);
  }
  try {
    await waitForBanner(h.address, h.port, READY_TIMEOUT_MS);
  } catch (err) {
    throw new Error(`${h.name} (${h.address}:${h.port}) not ready after ${READY_TIMEOUT_MS} ms: ${(err as Error).message}${logTail(h)}`);
  }
  // sshd writes its pid file right after it starts listening.
  const deadline = Date.now() + 2000;
  while (!existsSync(h.sshdPidFile) && Date.now() < deadline) await sleep(10);
}

function logTail(h: FleetHost, lines = 15): string {
  try {
    const text = readFileSync(sshdLogPath(h), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return `\n--- tail of ${sshdLogPath(h)} ---\n${text}`;
  } catch {
    return `\n(no ${sshdLogPath(h)})`;
  }
}

// ---------------------------------------------------------------- per host

function findHost(state: FleetState, name: string): FleetHost {
  const h = state.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name} in the fleet (hosts: ${state.hosts.map((x) => x.name).join(', ')})`);
  return h;
}

/** The anchor must still be our process: never nsenter into a recycled pid. */
function assertAnchor(state: FleetState, h: FleetHost) {
  const tag = fleetNames(state).anchorTag(h.name);
  if (readArgv(h.anchorPid)?.[0] !== tag || !isAlive(h.anchorPid)) {
    throw new Error(`anchor of ${h.name} (pid ${h.anchorPid}) is gone; restart the fleet: npm run fleet -- up ${state.hosts.length}`);
  }
}

/** The listening sshd of host `h` (not its per-connection children). */
function isListener(pid: number, h: FleetHost): boolean {
  const argv = readArgv(pid);
  if (!argv) return false;
  const cmd = argv.join(' ');
  // Before setproctitle the listener is "…sshd -f <cfg> -E <log>"; after it,
  // "sshd: …sshd -f <cfg> -E <log> [listener] …". Re-exec'd children add "-R".
  return cmd.includes(sshdConfigPath(h)) && !argv.includes('-R');
}

function listenerPids(h: FleetHost): number[] {
  const pids = new Set<number>();
  try {
    const fromFile = Number(readFileSync(h.sshdPidFile, 'utf8').trim());
    if (fromFile > 1 && isListener(fromFile, h)) pids.add(fromFile);
  } catch {
    /* no pid file */
  }
  // Also catch a listener whose pid file was lost.
  for (const pid of pidsWhere((argv) => argv.join(' ').includes(sshdConfigPath(h)) && argv.join(' ').includes('[listener]'))) {
    pids.add(pid);
  }
  return [...pids];
}

/**
 * Kill the host's sshd listener: new connections are refused (like a host whose
 * sshd is down). Established sessions, the anchor and the mounts stay.
 */
export async function stopHost(state: FleetState, name: string): Promise<void> {
  const h = findHost(state, name);
  await killVerified(listenerPids(h), (pid) => isListener(pid, h), 'SIGTERM');
  rmSync(h.sshdPidFile, { force: true });
}

/** Start the host's sshd again in the same namespaces; resolves once it answers. */
export async function startHost(state: FleetState, name: string): Promise<void> {
  const h = findHost(state, name);
  assertAnchor(state, h);
  if (listenerPids(h).length > 0) {
    await waitForBanner(h.address, h.port, READY_TIMEOUT_MS);
    return;
  }
  await launchSshd(h);
}

/**
 * Run a sh script as root inside the host's mount and network namespaces
 * (its /srv, its homes, its address). Works while the host's sshd is stopped.
 * Never throws for a non-zero exit: check `code`.
 */
export async function hostShell(
  state: FleetState,
  name: string,
  script: string,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const h = findHost(state, name);
  assertAnchor(state, h);
  return run('nsenter', ['-t', String(h.anchorPid), '-m', '-n', 'sh', '-c', script], {
    ...opts,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' },
  });
}

export interface HostHealth {
  name: string;
  anchor: boolean;
  sshdPid: number | null;
  banner: string | null;
  error?: string;
}

/** Probe every host (anchor alive, sshd banner) without changing anything. */
export async function fleetHealth(state: FleetState, timeoutMs = 1000): Promise<HostHealth[]> {
  return Promise.all(
    state.hosts.map(async (h) => {
      const tag = fleetNames(state).anchorTag(h.name);
      const anchor = isAlive(h.anchorPid) && readArgv(h.anchorPid)?.[0] === tag;
      const sshdPid = listenerPids(h)[0] ?? null;
      try {
        return { name: h.name, anchor, sshdPid, banner: await readBanner(h.address, h.port, timeoutMs) };
      } catch (err) {
        return { name: h.name, anchor, sshdPid, banner: null, error: (err as Error).message };
      }
    }),
  );
}

// ---------------------------------------------------------------- down

/** Tear the fleet down. Idempotent; also cleans up after a killed `up` (with or without state.json). */
export async function fleetDown(): Promise<void> {
  const cfg = loadFleetConfig();
  assertRoot();
  let state: FleetState | undefined;
  try {
    state = readFleetState(cfg.dir);
  } catch {
    /* no state: scan for leftovers by name */
  }
  await cleanup(cfg, state);
  if (state && state.prefix !== cfg.prefix) await cleanup({ ...cfg, prefix: state.prefix }, state);
}

async function cleanup(cfg: FleetConfig, state?: FleetState): Promise<void> {
  const n = fleetNames(cfg);
  const dirs = [...new Set([cfg.dir, ...(state ? [state.dir] : [])])];
  // Namespaces we must never sweep, whatever a bug elsewhere might make us think.
  const forbidden = new Set([nsOf(1, 'mnt'), nsOf(1, 'net'), nsOf('self', 'mnt'), nsOf('self', 'net')]);

  // 1. Our processes: anchors (by argv[0] tag), sshds (by config path in our
  //    dir), everything in their mount namespaces, everything in our netns.
  const isAnchor = (argv: string[]) => n.anchorTagPattern.test(argv[0] ?? '');
  const isOurSshd = (argv: string[]) => {
    // argv[0] is "/usr/sbin/sshd", or "sshd: /usr/sbin/sshd -f <cfg> … [listener] …" after setproctitle.
    if (!/^(\S*\/)?sshd(:|$)/.test(argv[0] ?? '')) return false;
    const cmd = argv.join(' ');
    return dirs.some((d) => cmd.includes(`${d}/`) && cmd.includes('/sshd_config'));
  };
  const seeds = pidsWhere((argv) => isAnchor(argv) || isOurSshd(argv));
  const mntIds = new Set(seeds.map((p) => nsOf(p, 'mnt')).filter((x): x is string => !!x && !forbidden.has(x)));
  // Same test as `ip netns pids <ns>`: /proc/<pid>/ns/net is the inode bound at /run/netns/<ns>.
  const netnsNames = await listOurNetns(cfg);
  const netIds = new Set<string>();
  for (const ns of netnsNames) {
    try {
      const id = `net:[${statSync(`/run/netns/${ns}`).ino}]`;
      if (!forbidden.has(id)) netIds.add(id);
    } catch {
      /* vanished */
    }
  }
  const victims = [...seeds, ...pidsInNamespaces('mnt', mntIds), ...pidsInNamespaces('net', netIds)];
  const stillOurs = (pid: number) => {
    const argv = readArgv(pid);
    if (argv && (isAnchor(argv) || isOurSshd(argv))) return true;
    const mnt = nsOf(pid, 'mnt');
    const net = nsOf(pid, 'net');
    return (!!mnt && mntIds.has(mnt)) || (!!net && netIds.has(net));
  };
  await killVerified(victims, stillOurs, 'SIGKILL');

  // 2. Network: netns (their veth ends go with them), then any link left with our names.
  for (const ns of netnsNames) await deleteNetns(ns);
  for (const link of await listOurLinks(cfg)) await deleteLink(link);

  // 3. sudo rule and the dir (only if it carries our marker, and nothing is mounted under it here).
  removeSudoers(cfg);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const dir of dirs) {
    if (!existsSync(path.join(dir, DIR_MARKER))) continue;
    const mounted = mounts.split('\n').some((l) => (l.split(' ')[4] ?? '').startsWith(`${dir}/`));
    if (mounted) throw new Error(`something is mounted under ${dir}; not deleting it (see /proc/self/mountinfo)`);
    rmSync(dir, { recursive: true, force: true });
  }
}

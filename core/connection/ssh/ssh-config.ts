/**
 * Resolve ~/.ssh/config for one host alias exactly as OpenSSH does, by asking
 * the ssh client itself (`ssh -G`): Include, Match (host, exec, ...), Host
 * patterns, first-value-wins, defaults and /etc/ssh/ssh_config are all
 * handled by OpenSSH. Without an ssh client we fall back to plain defaults.
 *
 * Things `ssh -G` (OpenSSH 9.2) does NOT do, handled here:
 *  - `identityfile` values are printed unexpanded (`~/...`, `%h`, `${VAR}`):
 *    ssh expands them only when it loads the keys. We expand `~/` ourselves
 *    (with the passwd home directory, as ssh does, not $HOME) and let ssh
 *    expand %-tokens / ${VAR} (see expandIdentityFiles).
 *  - `userknownhostsfile` / `globalknownhostsfile` print several paths on one
 *    line separated by spaces, without quoting: a path containing a space is
 *    ambiguous. We split before each `/` or `~` that follows a space (paths
 *    are absolute after ssh's expansion), so `/a b/kh /c` gives two paths.
 *  - `stricthostkeychecking` is printed as true/false for yes/no (and `off`
 *    prints as false): we map back to 'yes' / 'no'.
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';

export interface ResolvedSshConfig {
  hostname: string;
  /** `ssh -G` always prints one (the local login name when not configured). */
  user?: string;
  port: number;
  /**
   * Only identity files the user configured explicitly (not OpenSSH's default
   * `~/.ssh/id_*` list) that exist on disk, with `~`, %-tokens and ${VAR}
   * expanded.
   */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** Raw, e.g. 'bastion' or 'user@b1:2222,b2'; undefined when 'none' or absent. */
  proxyJump?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  strictHostKeyChecking?: 'yes' | 'no' | 'accept-new' | 'ask' | 'off';
  /** Seconds; undefined when not set ('none'). */
  connectTimeout?: number;
  /** Seconds; 0 means disabled (OpenSSH's default). */
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  /**
   * Raw IdentityAgent value when configured: a socket path (expanded by ssh),
   * 'none' (do not use an agent) or 'SSH_AUTH_SOCK' (use that variable).
   */
  identityAgent?: string;

  // --- extras (optional so hand-made objects stay valid) -------------------
  /** Explicitly configured identity files that do not exist (OpenSSH skips them silently). */
  missingIdentityFiles?: string[];
  /** HostKeyAlias: when set, OpenSSH looks this name up in known_hosts instead of the host name. */
  hostKeyAlias?: string;
  /** HashKnownHosts: whether OpenSSH would hash names it adds to known_hosts. */
  hashKnownHosts?: boolean;
  /** ProxyCommand, raw (tokens unexpanded); set when the user relies on one. */
  proxyCommand?: string;
  /** 'ssh -G' when resolved by OpenSSH, 'fallback' when no ssh client was found. */
  source?: 'ssh -G' | 'fallback';
}

export interface ResolveSshConfigOptions {
  /** Passed as `ssh -F file` (then /etc/ssh/ssh_config is not read either, as with ssh). */
  configFile?: string;
  /** Default 'ssh' (looked up in PATH). */
  sshBinary?: string;
  /** Environment for ssh (Match exec, ${VAR} expansion). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Default identity files of OpenSSH 9.x, used if `ssh -G -F none` itself fails. */
const BUILTIN_DEFAULT_IDENTITIES = [
  '~/.ssh/id_rsa',
  '~/.ssh/id_ecdsa',
  '~/.ssh/id_ecdsa_sk',
  '~/.ssh/id_ed25519',
  '~/.ssh/id_ed25519_sk',
  '~/.ssh/id_xmss',
  '~/.ssh/id_dsa',
];

const SSH_G_TIMEOUT_MS = 15_000;

type SshGOutput = Map<string, string[]>;

const cache = new Map<string, Promise<ResolvedSshConfig>>();
const defaultIdentitiesCache = new Map<string, Promise<string[]>>();

/** Forget memoized results (tests, or after the user edited their config). */
export function clearSshConfigCache(): void {
  cache.clear();
  defaultIdentitiesCache.clear();
}

/**
 * Resolve the effective ssh configuration for `alias`. Memoized per
 * (alias, configFile, sshBinary) for the life of the process; a failed
 * resolution is not cached.
 */
export function resolveSshConfig(alias: string, opts: ResolveSshConfigOptions = {}): Promise<ResolvedSshConfig> {
  const key = JSON.stringify([alias, opts.configFile ?? null, opts.sshBinary ?? 'ssh']);
  let p = cache.get(key);
  if (!p) {
    p = resolveUncached(alias, opts);
    cache.set(key, p);
    p.catch(() => {
      if (cache.get(key) === p) cache.delete(key);
    });
  }
  return p;
}

class SshBinaryMissing extends Error {}

interface ExecResult {
  stdout: string;
  stderr: string;
}

function runSsh(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      args,
      { env, timeout: SSH_G_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const err = error as NodeJS.ErrnoException & { killed?: boolean };
        // Spawn failure: the binary does not exist (exit statuses are numbers).
        if (err.code === 'ENOENT') {
          reject(new SshBinaryMissing(`ssh client not found: ${binary}`));
          return;
        }
        Object.assign(err, { stdout, stderr });
        reject(err);
      },
    );
  });
}

function parseSshG(stdout: string): SshGOutput {
  const out: SshGOutput = new Map();
  for (const line of stdout.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const sp = trimmed.indexOf(' ');
    const k = (sp === -1 ? trimmed : trimmed.slice(0, sp)).toLowerCase();
    const v = sp === -1 ? '' : trimmed.slice(sp + 1).trim();
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

function first(out: SshGOutput, k: string): string | undefined {
  return out.get(k)?.[0];
}

/** Lines ssh prints on stderr that say nothing about the config. */
function cleanStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('Pseudo-terminal will not be allocated'))
    .join('\n')
    .trim();
}

function sshGArgs(alias: string, configFile: string | undefined, extra: string[] = []): string[] {
  return ['-G', ...(configFile !== undefined ? ['-F', configFile] : []), ...extra, '--', alias];
}

/** Home directory as ssh sees it for `~`: the passwd entry, not $HOME. */
function passwdHome(): string {
  try {
    return userInfo().homedir || homedir();
  } catch {
    return homedir();
  }
}

function fallbackConfig(alias: string): ResolvedSshConfig {
  const home = homedir();
  return {
    hostname: alias,
    port: 22,
    identityFiles: [],
    identitiesOnly: false,
    userKnownHostsFiles: [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')],
    globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    source: 'fallback',
  };
}

/** Split a printed list of known_hosts paths (see header for the space issue). */
function splitPathList(value: string | undefined): string[] {
  if (value === undefined || value === '' || value === 'none') return [];
  return value.split(/ +(?=[/~])/).filter((p) => p !== '' && p !== 'none');
}

function parseIntOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined || value === 'none') return undefined;
  const n = Number.parseInt(value, 10);
  return Number.isFinite(n) ? n : undefined;
}

function mapStrict(value: string | undefined): ResolvedSshConfig['strictHostKeyChecking'] {
  switch (value) {
    case 'true':
    case 'yes':
      return 'yes';
    case 'false':
    case 'no':
      return 'no';
    case 'off':
      return 'off';
    case 'accept-new':
      return 'accept-new';
    case 'ask':
      return 'ask';
    default:
      return undefined;
  }
}

function describeConfigFiles(configFile: string | undefined): string {
  return configFile !== undefined
    ? configFile
    : `${join(homedir(), '.ssh', 'config')} (or /etc/ssh/ssh_config)`;
}

async function resolveUncached(alias: string, opts: ResolveSshConfigOptions): Promise<ResolvedSshConfig> {
  const binary = opts.sshBinary ?? 'ssh';
  const env = opts.env ?? process.env;

  const defaultsP = defaultIdentityFiles(binary, env);
  defaultsP.catch(() => {}); // awaited below; avoid an unhandled rejection if the main call throws first

  let main: ExecResult;
  try {
    main = await runSsh(binary, sshGArgs(alias, opts.configFile), env);
  } catch (err) {
    if (err instanceof SshBinaryMissing) return fallbackConfig(alias);
    const e = err as Error & { stderr?: string; killed?: boolean };
    const where = describeConfigFiles(opts.configFile);
    const detail = e.killed
      ? `ssh -G did not finish within ${SSH_G_TIMEOUT_MS / 1000}s (a "Match exec" command may hang)`
      : cleanStderr(e.stderr ?? '') || e.message;
    throw new ConfigError(`Could not read the SSH config for host "${alias}" from ${where}:\n${detail}`, {
      hint: 'fix the file, point deployr at another one with ssh.sshConfigFile, or set ssh.useSshConfig: false',
      cause: err,
    });
  }

  const out = parseSshG(main.stdout);
  const defaults = await defaultsP.catch(() => BUILTIN_DEFAULT_IDENTITIES);

  // Explicit vs default IdentityFile. OpenSSH (readconf.c,
  // fill_default_options) adds its default ~/.ssh/id_* list ONLY when no
  // IdentityFile was configured at all; it never mixes the two. So the printed
  // list is either exactly the default list (nothing configured) or exactly
  // what the user configured. We therefore compare the WHOLE list with the
  // `-F none` list rather than dropping each path that also is a default: an
  // explicit `IdentityFile ~/.ssh/id_ed25519` (a default path) must be kept,
  // otherwise a caller using IdentitiesOnly would offer no key at all. The one
  // ambiguous case — the user lists exactly all the defaults — is treated as
  // "nothing configured", which is what it amounts to.
  const printed = out.get('identityfile') ?? [];
  const isDefaultList =
    printed.length === defaults.length && printed.every((p) => defaults.includes(p)) && new Set(printed).size === printed.length;
  const configured = isDefaultList ? [] : printed;
  const expanded = await expandIdentityFiles(configured, alias, opts.configFile, binary, env);
  const exists = await Promise.all(
    expanded.map((p) =>
      stat(p).then(
        () => true,
        () => false,
      ),
    ),
  );
  const identityFiles = expanded.filter((_, i) => exists[i]);
  const missingIdentityFiles = expanded.filter((_, i) => !exists[i]);

  const proxyJump = first(out, 'proxyjump');
  const proxyCommand = first(out, 'proxycommand');
  const hostKeyAlias = first(out, 'hostkeyalias');
  const identityAgent = first(out, 'identityagent');
  const hashKnownHosts = first(out, 'hashknownhosts');

  const result: ResolvedSshConfig = {
    hostname: first(out, 'hostname') || alias,
    port: parseIntOrUndefined(first(out, 'port')) ?? 22,
    identityFiles,
    identitiesOnly: first(out, 'identitiesonly') === 'yes' || first(out, 'identitiesonly') === 'true',
    userKnownHostsFiles: splitPathList(first(out, 'userknownhostsfile')),
    globalKnownHostsFiles: splitPathList(first(out, 'globalknownhostsfile')),
    source: 'ssh -G',
  };
  const user = first(out, 'user');
  if (user) result.user = user;
  if (proxyJump && proxyJump !== 'none') result.proxyJump = proxyJump;
  const strict = mapStrict(first(out, 'stricthostkeychecking'));
  if (strict) result.strictHostKeyChecking = strict;
  const connectTimeout = parseIntOrUndefined(first(out, 'connecttimeout'));
  if (connectTimeout !== undefined) result.connectTimeout = connectTimeout;
  const sai = parseIntOrUndefined(first(out, 'serveraliveinterval'));
  if (sai !== undefined) result.serverAliveInterval = sai;
  const sacm = parseIntOrUndefined(first(out, 'serveralivecountmax'));
  if (sacm !== undefined) result.serverAliveCountMax = sacm;
  if (identityAgent) result.identityAgent = identityAgent;
  if (missingIdentityFiles.length > 0) result.missingIdentityFiles = missingIdentityFiles;
  if (hostKeyAlias && hostKeyAlias !== 'none') result.hostKeyAlias = hostKeyAlias;
  if (hashKnownHosts !== undefined) result.hashKnownHosts = hashKnownHosts === 'yes' || hashKnownHosts === 'true';
  if (proxyCommand && proxyCommand !== 'none') result.proxyCommand = proxyCommand;
  return result;
}

/** OpenSSH's default identity list as `ssh -G -F none` prints it (memoized per binary). */
function defaultIdentityFiles(binary: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  let p = defaultIdentitiesCache.get(binary);
  if (!p) {
    p = runSsh(binary, sshGArgs('deployr-default-probe', 'none'), env).then(
      (r) => parseSshG(r.stdout).get('identityfile') ?? [],
    );
    defaultIdentitiesCache.set(binary, p);
    p.catch(() => defaultIdentitiesCache.delete(binary));
  }
  return p;
}

/**
 * Expand identity file paths as ssh does when it loads them.
 *  - `~/x` → passwd home + x (done here; no process needed);
 *  - %-tokens, ${VAR}, `~user/`: ssh expands IdentityFile and
 *    UserKnownHostsFile with the same tokens (ssh.c:
 *    default_client_percent_dollar_expand), and `ssh -G` prints the latter
 *    expanded. So we ask ssh: `ssh -G -o UserKnownHostsFile="<path>" alias`
 *    (a command-line -o wins over the config files) and read the result
 *    back. This keeps %C, %k, %L ... exact for whatever OpenSSH version is
 *    installed. Paths containing `"` or `\` cannot be quoted reliably for
 *    ssh's argument splitter; they get `~/` expansion only.
 */
async function expandIdentityFiles(
  paths: string[],
  alias: string,
  configFile: string | undefined,
  binary: string,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const home = passwdHome();
  const tildeOnly = (p: string): string => (p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p);
  return Promise.all(
    paths.map(async (p) => {
      const needsSsh = p.includes('%') || p.includes('${') || /^~[^/]/.test(p);
      if (!needsSsh || p.includes('"') || p.includes('\\')) return tildeOnly(p);
      try {
        const r = await runSsh(binary, sshGArgs(alias, configFile, ['-o', `UserKnownHostsFile="${p}"`]), env);
        const v = first(parseSshG(r.stdout), 'userknownhostsfile');
        return v ? v : tildeOnly(p);
      } catch {
        return tildeOnly(p);
      }
    }),
  );
}

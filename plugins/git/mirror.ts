// Each host's mirror of the repository: cloned once, fetched on every
// deploy, reported like every idempotent step (`unchanged` when the fetch
// brought nothing). Under --dry-run only read-only commands run: whether
// the mirror exists, its refs, and the remote's, to predict the fetch.
import { DeployrError, reportChange, type ChangeStatus, type ExecResult, type Host, type TaskContext } from 'deployr';
import {
  cloneMirrorCommand,
  fetchMirrorCommand,
  lsRemoteCommand,
  mirrorRefsCommand,
  parseRefLines,
  probeMirrorCommand,
  setMirrorUrlCommand,
} from './commands.js';
import { parseLsRemote } from './remote-refs.js';

/**
 * Brings `host`'s mirror up to date with `url` (`host` runs in deployTo with
 * the plugin's git environment) and returns what happened to it.
 */
export async function syncMirror(ctx: Pick<TaskContext, 'log' | 'dryRun' | 'signal' | 'target'>, host: Host, url: string, mirror: string): Promise<ChangeStatus> {
  const what = `git mirror ${mirror}`;
  const probe = await host.exec(probeMirrorCommand(mirror), { readOnly: true, nothrow: true, quiet: true, signal: ctx.signal });
  let status: ChangeStatus;
  if (!probe.ok) {
    if (!ctx.dryRun) await gitStep(ctx, host, cloneMirrorCommand(url, mirror), `cannot clone ${url} into ${mirror}`, url);
    status = 'created';
  } else {
    const [origin = '', ...lines] = probe.stdout.split('\n');
    const before = parseRefLines(lines.join('\n'));
    const moved = origin.trim() !== url;
    if (ctx.dryRun) {
      const remote = parseLsRemote((await gitStep(ctx, host, lsRemoteCommand(url), `cannot list the refs of ${url}`, url, true)).stdout);
      status = moved || !sameRefs(before, remote.advertised) ? 'updated' : 'unchanged';
    } else {
      if (moved) await gitStep(ctx, host, setMirrorUrlCommand(mirror, url), `cannot point ${mirror} at ${url}`, url);
      await gitStep(ctx, host, fetchMirrorCommand(mirror), `cannot fetch ${url} into ${mirror}`, url);
      const after = parseRefLines((await host.exec(mirrorRefsCommand(mirror), { readOnly: true, quiet: true, signal: ctx.signal })).stdout);
      status = moved || !sameRefs(before, after) ? 'updated' : 'unchanged';
    }
  }
  reportChange(ctx.log, { what, status, predicted: ctx.dryRun && status !== 'unchanged' });
  return status;
}

function sameRefs(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([name, id]) => b.get(name) === id);
}

/**
 * Runs one git command that talks to the repository, turning its failure
 * into a message that says what could not be done, on which host, and what
 * to check: an untrusted host key above all, which is refused, never accepted.
 */
export async function gitStep(
  ctx: Pick<TaskContext, 'signal' | 'target'>,
  host: Host,
  command: Parameters<Host['exec']>[0],
  what: string,
  url: string,
  readOnly = false,
): Promise<ExecResult> {
  const result = await host.exec(command, { nothrow: true, quiet: readOnly, readOnly, signal: ctx.signal });
  if (result.ok) return result;
  throw repositoryError(what, url, result, ctx.target.name);
}

/** `host`: the deploy host git ran on; without it, git ran on this machine with the user's own ssh settings. */
export function repositoryError(what: string, url: string, result: Pick<ExecResult, 'stderr' | 'code'>, host?: string): DeployrError {
  const stderr = result.stderr.trim();
  // git's closing advice ("Please make sure you have the correct access rights…") would push ssh's own reason out of view.
  const lines = stderr.split('\n').filter((line) => line.trim() !== '' && !/^(Please make sure you have the correct access rights|and the repository exists\.)$/.test(line.trim()));
  const shown = lines.slice(-4).join('\n') || `exit ${String(result.code)}`;
  const { name: server, host: serverHost, port } = repositoryHost(url);
  const options = { ...(host === undefined ? {} : { host }) };
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr)) {
    return new DeployrError(`${what}: the host key of ${server} is not trusted there (unknown or changed), so git refused to connect:\n${shown}`, {
      ...options,
      hint: `add ${server}'s key to ${host === undefined ? 'your known_hosts on this machine' : 'the knownHostsFile set in the git plugin'} (compare \`ssh-keyscan ${port ? `-p ${port} ` : ''}${serverHost}\` with the fingerprint your git host publishes); unknown keys are never accepted`,
    });
  }
  if (/Permission denied \(publickey|Could not read from remote repository|Authentication failed|could not read Username/i.test(stderr)) {
    return new DeployrError(`${what}: ${server} refused access:\n${shown}`, {
      ...options,
      hint: 'give the hosts read access: a deploy key on each host (sshKey) authorized for the repository, or a URL they can read',
    });
  }
  return new DeployrError(`${what}:\n${shown}`, { ...options, hint: `check the url (${url}) and that the host can reach ${server}` });
}

/** The server of a git URL, as known_hosts names it: git@github.com:me/app.git → github.com; ssh://u@h:2222/p → [h]:2222. */
export function repositoryHost(url: string): { readonly name: string; readonly host: string; readonly port?: string } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^/:]+)(?::(\d+))?/i.exec(url);
  if (withScheme) {
    const host = (withScheme[1] as string).replace(/^\[|\]$/g, '');
    const port = withScheme[2];
    return port && port !== '22' ? { name: `[${host}]:${port}`, host, port } : { name: host, host };
  }
  const scpLike = /^(?:[^@/]*@)?([^/:]+):/.exec(url);
  const host = scpLike ? (scpLike[1] as string) : url;
  return { name: host, host };
}

// What the remote strategy runs on each host, as commands (data): every
// interpolated value goes through cmd`…` and is quoted. The mirror is a
// bare `git clone --mirror`, so its refs are exactly the remote's.
import { cmd, pipe, quote, type Command } from 'deployr';

/**
 * Files in an exported release get 644/755 whatever git's tar.umask (0002
 * by default) or the extracting user's umask, so a release's modes depend
 * only on the commit.
 */
const ARCHIVE_UMASK = 'tar.umask=0022';
const REF_FORMAT = '%(objectname) %(refname)';

export interface SshSettings {
  readonly sshKey?: string;
  readonly knownHostsFile?: string;
}

/**
 * GIT_SSH_COMMAND for git on a host: never a prompt (BatchMode), host keys
 * always verified (an unknown key fails, it is never accepted), and with
 * a deploy key, only that key offered. Each word is quoted for the shell
 * git runs it with; ssh itself expands a leading ~/ in both paths.
 */
export function gitSshCommand({ sshKey, knownHostsFile }: SshSettings): string {
  const words = ['ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes'];
  if (sshKey !== undefined) words.push('-i', sshKey, '-o', 'IdentitiesOnly=yes');
  if (knownHostsFile !== undefined) words.push('-o', `UserKnownHostsFile=${knownHostsFile}`);
  return words.map(quote).join(' ');
}

/** The environment every git command of the plugin runs with on a host. */
export function gitEnv(settings: SshSettings): Record<string, string> {
  return { GIT_SSH_COMMAND: gitSshCommand(settings), GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
}

/** Every ref of the remote, with HEAD's branch: read-only, so it also runs under --dry-run. */
export function lsRemoteCommand(url: string): Command {
  return cmd`git ls-remote --symref ${url}`;
}

/** The mirror's origin URL, then its refs; fails when there is no mirror yet. Read-only. */
export function probeMirrorCommand(mirror: string): Command {
  return cmd`git --git-dir=${mirror} config --get remote.origin.url && git --git-dir=${mirror} for-each-ref ${`--format=${REF_FORMAT}`}`;
}

/** The mirror's refs, to compare before and after a fetch. Read-only. */
export function mirrorRefsCommand(mirror: string): Command {
  return cmd`git --git-dir=${mirror} for-each-ref ${`--format=${REF_FORMAT}`}`;
}

/** The first time on a host: a bare mirror of every ref (git makes the parent directories). */
export function cloneMirrorCommand(url: string, mirror: string): Command {
  return cmd`git clone --mirror --quiet -- ${url} ${mirror}`;
}

/** The plugin's url changed since the mirror was made: fetch from the new one. */
export function setMirrorUrlCommand(mirror: string, url: string): Command {
  return cmd`git --git-dir=${mirror} remote set-url origin ${url}`;
}

/** New commits, and refs deleted upstream removed (a mirror's refspec is +refs/*:refs/*). */
export function fetchMirrorCommand(mirror: string): Command {
  return cmd`git --git-dir=${mirror} remote update --prune`;
}

/** Exit 0 when the mirror has the commit. Read-only. */
export function hasCommitCommand(mirror: string, commit: string): Command {
  return cmd`git --git-dir=${mirror} cat-file -e ${`${commit}^{commit}`}`;
}

/**
 * The commit's files (export-ignore honoured), or only `subdir`'s, into the
 * release directory. tar fails on an empty stream, so a failing git archive
 * fails the command too.
 */
export function exportCommand(mirror: string, commit: string, releaseDir: string, subdir?: string): Command {
  const archive = subdir ? cmd`git -c ${ARCHIVE_UMASK} --git-dir=${mirror} archive --format=tar ${commit} -- ${subdir}` : cmd`git -c ${ARCHIVE_UMASK} --git-dir=${mirror} archive --format=tar ${commit}`;
  const strip = subdir ? subdir.split('/').length : 0;
  const extract = strip > 0 ? cmd`tar -x -p --no-same-owner -f - -C ${releaseDir} ${`--strip-components=${strip}`}` : cmd`tar -x -p --no-same-owner -f - -C ${releaseDir}`;
  return pipe(archive, extract);
}

/** `<sha> <refname>` lines → refname → sha. */
export function parseRefLines(stdout: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([0-9a-f]{40,64}) (.+)$/.exec(line);
    if (match) refs.set(match[2] as string, match[1] as string);
  }
  return refs;
}

export { ARCHIVE_UMASK };

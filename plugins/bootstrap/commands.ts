// The commands bootstrap runs, per package-manager family. Debian/Ubuntu and
// the RHEL family have shadow-utils (useradd, usermod); Alpine has BusyBox
// (adduser -D, addgroup). Pure functions, so unit tests pin them exactly.
import { and, cmd, pipe, type Command, type PackageManager } from 'deployr';

/** Where each family keeps nologin (Debian's /sbin is not merged everywhere; RHEL and Alpine use /sbin). */
export function nologinShell(manager: PackageManager): string {
  return manager === 'apt' ? '/usr/sbin/nologin' : '/sbin/nologin';
}

/** sudo (deployr works through `sudo -n`) and Python 3 with its venv module (apt splits that off). */
export function basePackages(manager: PackageManager, python: boolean): string[] {
  if (!python) return ['sudo'];
  return manager === 'apt' ? ['sudo', 'python3', 'python3-venv'] : ['sudo', 'python3'];
}

export function createGroupCommand(manager: PackageManager, group: string): Command {
  return manager === 'apk' ? cmd`addgroup ${group}` : cmd`groupadd ${group}`;
}

export interface DeployUserSpec {
  readonly user: string;
  readonly home: string;
  readonly shell: string;
  /** The shared group, as a supplementary group; the user gets a group of its own as its primary. */
  readonly group: string;
}

/** A login user with a home, its own group, the shared group, and key login enabled. */
export function createDeployUserCommand(manager: PackageManager, spec: DeployUserSpec): Command {
  const { user, home, shell, group } = spec;
  if (manager === 'apk') {
    return and(cmd`adduser -D -h ${home} -s ${shell} ${user}`, addToGroupCommand(manager, user, group), enableKeyLoginCommand(manager, user));
  }
  return and(cmd`useradd -m -d ${home} -s ${shell} -U -G ${group} ${user}`, enableKeyLoginCommand(manager, user));
}

export interface RunUserSpec {
  readonly user: string;
  /** Its home, which is not created: deployTo when there is one. */
  readonly home: string;
  /** Its primary group: files it creates belong to the shared group. */
  readonly group: string;
}

/** A system user that cannot log in, whose primary group is the shared group. */
export function createRunUserCommand(manager: PackageManager, spec: RunUserSpec): Command {
  const { user, home, group } = spec;
  const nologin = nologinShell(manager);
  if (manager === 'apk') return cmd`adduser -S -D -H -h ${home} -s ${nologin} -G ${group} ${user}`;
  return cmd`useradd --system -g ${group} -N -M -d ${home} -s ${nologin} ${user}`;
}

/** Adds an existing user to a group, keeping its other groups. */
export function addToGroupCommand(manager: PackageManager, user: string, group: string): Command {
  return manager === 'apk' ? cmd`addgroup ${user} ${group}` : cmd`usermod -a -G ${group} ${user}`;
}

/**
 * Replaces the `!` a new account gets (locked, no password) with `*` (no
 * password, not locked). sshd without PAM (Alpine's, or UsePAM no) refuses
 * even key logins to a locked account; `*` still allows no password login.
 */
export function enableKeyLoginCommand(manager: PackageManager, user: string): Command {
  if (manager === 'apk') return pipe(cmd`printf '%s\\n' ${`${user}:*`}`, cmd`chpasswd -e`);
  return cmd`usermod -p ${'*'} ${user}`;
}

// Reads. They run under --dry-run too (readOnly), so a dry run shows what would change.

/** `name:x:uid:gid:gecos:home:shell`; exit 2 when there is no such user. */
export const userEntryCommand = (user: string): Command => cmd`getent passwd ${user}`;
/** `name:x:gid:members`; exit 2 when there is no such group. */
export const groupEntryCommand = (group: string): Command => cmd`getent group ${group}`;
/** Every group of a user, primary first. */
export const groupsOfCommand = (user: string): Command => cmd`id -Gn ${user}`;

/**
 * How the user's password field stands, without printing it: `open` (a
 * password or `*`), `unset` (`!` or `!!` alone: locked, never had one) or
 * `locked` (`passwd -l` on a password); nothing when there is no such user.
 */
export function passwordStateCommand(user: string): Command {
  const program = '$1 == u { p = $2; sub(/^!+/, "", p); print ($2 !~ /^!/) ? "open" : (p == "" || p == "*") ? "unset" : "locked" }';
  return cmd`awk -F: -v ${`u=${user}`} ${program} /etc/shadow`;
}

/** `directory|2755|deploy|app`: type, mode, owner and group, following a symlink; fails when nothing is there. */
export const directoryStateCommand = (path: string): Command => cmd`stat -L -c ${'%F|%a|%U|%G'} ${path}`;

/** Creates the directory (and its parents) if needed and sets its owner, group and mode. */
export function ensureDirectoryCommand(path: string, mode: number, owner: string, group: string): Command {
  return and(cmd`mkdir -p ${path}`, cmd`chown ${`${owner}:${group}`} ${path}`, cmd`chmod ${octal(mode)} ${path}`);
}

/** Five digits (02755, 00700): GNU chmod keeps a directory's setgid bit unless the mode says otherwise. */
export function octal(mode: number): string {
  return `0${mode.toString(8).padStart(4, '0')}`;
}

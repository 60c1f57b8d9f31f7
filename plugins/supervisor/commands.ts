// What the plugin runs on a host, as data (each is run through sudo:
// supervisorctl needs root, its socket is 0700). Every value is quoted by cmd``.
import { and, cmd, type Command } from 'deployr';

/** `<program>:*`: the program's group, whether it runs one process or several. */
export function group(program: string): string {
  return `${program}:*`;
}

export function statusCommand(program: string): Command {
  return cmd`supervisorctl status ${group(program)}`;
}

export function startCommand(program: string): Command {
  return cmd`supervisorctl start ${group(program)}`;
}

export function stopCommand(program: string): Command {
  return cmd`supervisorctl stop ${group(program)}`;
}

export function restartCommand(program: string): Command {
  return cmd`supervisorctl restart ${group(program)}`;
}

/**
 * Loads the changed program file: `reread` says what changed, `update`
 * applies it to this program only (added, or stopped and started again
 * with the new settings), never to other programs' pending changes.
 */
export function updateCommand(program: string, logDir: string): Command {
  // supervisord creates log files but not their directory.
  return and(cmd`mkdir -p -- ${logDir}`, cmd`supervisorctl reread`, cmd`supervisorctl update ${program}`);
}

/** Prints supervisord's pid; fails when supervisord is not running (or not installed). */
export function pidCommand(): Command {
  return cmd`supervisorctl pid`;
}

/**
 * Starts supervisord and has it start at boot: systemd when it runs
 * (`/run/systemd/system`, as sd_booted(3) checks), else the init script
 * through service(8) (not invoke-rc.d, which a policy-rc.d may forbid),
 * else OpenRC.
 */
export function startServiceCommand(service: string): Command {
  return cmd`if test -d /run/systemd/system; then systemctl enable --now ${service}; elif command -v service >/dev/null 2>&1; then service ${service} start; elif command -v rc-service >/dev/null 2>&1; then rc-update add ${service} default && rc-service ${service} start; else echo ${`no systemd, service(8) or rc-service to start ${service} with`} >&2; exit 127; fi`;
}

/** The last `lines` lines of each file, with `==> file <==` headers when there are several. */
export function tailCommand(files: readonly string[], lines: number): Command {
  return cmd`tail -n ${String(lines)} -- ${files}`;
}

/** Removes the program file (a deploy that created it failed and went back). */
export function removeFileCommand(path: string): Command {
  return cmd`rm -f -- ${path}`;
}

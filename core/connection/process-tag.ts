import { cmd, concealed, joinCommands, raw, type Command } from '../command/index.js';

/**
 * Every command runs with DEPLOYR_CMD=<its id> in its environment, inherited
 * by everything it starts. Killing the channel's shell is not enough to stop
 * a command: pipelines, background children and anything under sudo (which
 * the login user may not signal) survive it. The tag finds them all, whatever
 * process group, session or user they ended up in.
 */
export const TAG_VARIABLE = 'DEPLOYR_CMD';

/** `export DEPLOYR_CMD=<id>; command`, the export hidden from logs. */
export function tagged(id: string, command: Command): Command {
  return joinCommands('', [concealed(cmd`export ${TAG_VARIABLE}=${id}; `, ''), command]);
}

/** `env DEPLOYR_CMD=<id> ` before a program, so the program itself carries the tag (used after sudo). */
export function tagPrefix(id: string): Command {
  return concealed(cmd`env ${TAG_VARIABLE}=${id} `, '');
}

/**
 * Kills every process whose environment carries the tag. /proc/<pid>/environ
 * holds the environment a process was started with, which is exactly what
 * children inherit. GNU and BusyBox grep both read NUL-separated input (-z).
 */
export function killTagged(id: string): Command {
  const match = `${TAG_VARIABLE}=${id}`;
  const pidOfPath = raw(String.raw`sed -n 's#^/proc/\([0-9]*\)/environ$#\1#p'`);
  return cmd`grep -lzxF ${match} /proc/[0-9]*/environ 2>/dev/null | ${pidOfPath} | xargs -r kill -KILL 2>/dev/null; true`;
}

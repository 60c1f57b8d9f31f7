import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { cmd, concealed, joinCommands, quoted, revealSecret, type Command, type Secret } from '../command/index.js';
import { tagPrefix } from './process-tag.js';
import type { TransportExecOptions } from './types.js';

/**
 * `sudo -n`: fails at once instead of waiting for a password nobody will type.
 * The shell after sudo carries the command's tag so a stop can find it (process-tag.ts).
 */
export function sudoCommand(inner: Command, user: string | undefined, id: string): Command {
  return joinCommands(' ', [cmd`sudo -n -H`, ...userFlag(user), joinCommands('', [cmd`--`, cmd` `, tagPrefix(id), cmd`sh -c`]), quoted(inner)]);
}

/** No flag for root: an empty command between ' ' separators would leave a double space. */
function userFlag(user: string | undefined): Command[] {
  return user && user !== 'root' ? [cmd`-u ${user}`] : [];
}

export interface PasswordSudo {
  command: Command;
  /** Transport options that answer the prompt and hide the protocol from output. */
  options: TransportExecOptions;
  /** True when sudo prompted more than once: the password was refused. */
  rejected(): boolean;
  /** Marker-free stderr text produced before the command started. */
  flush(): void;
}

/**
 * Runs a command through `sudo -S` and answers its password prompt safely.
 * The prompt is a random marker on stderr, so the password is written only
 * when sudo asks for it: when sudo does not ask (cached or NOPASSWD), nothing
 * is written and the password can never reach the command's own stdin. A
 * second random marker, printed by the inner shell, says sudo is done; only
 * then does the caller's stdin flow and stderr pass through unfiltered.
 */
export function passwordSudo(
  inner: Command,
  user: string | undefined,
  password: Secret,
  options: TransportExecOptions,
  id: string,
): PasswordSudo {
  const token = randomBytes(8).toString('hex');
  const prompt = `[deployr-sudo-prompt:${token}]`;
  const ready = `[deployr-sudo-ready:${token}]`;
  // The markers are plumbing: logs show `sudo -S -H -- sh -c '<command>'`.
  const script = joinCommands('', [concealed(cmd`printf '%s\\n' ${ready} >&2; `, ''), inner]);
  const command = joinCommands(' ', [
    joinCommands('', [cmd`sudo -S -H`, concealed(cmd` -p ${prompt}`, '')]),
    ...userFlag(user),
    joinCommands('', [cmd`--`, cmd` `, tagPrefix(id), cmd`sh -c`]),
    quoted(script),
  ]);

  // Snapshot the caller's stdin and stderr handler: Host merges the returned
  // options into the very object passed in, which would point both at ours.
  const callerStdin = options.stdin;
  const forwardStderr = options.onStderr;
  const stdin = new PassThrough();
  let prompts = 0;
  let started = false;
  let pending = '';

  const startCommandInput = (): void => {
    const source = callerStdin;
    if (source === undefined) stdin.end();
    else if (typeof source === 'string' || Buffer.isBuffer(source)) stdin.end(source);
    else {
      // pipe() does not pass errors on: without this the command would wait for the rest of its input
      // forever. The transport stops a command whose stdin fails.
      (source as Readable).on('error', (error) => stdin.destroy(error));
      (source as Readable).pipe(stdin);
    }
  };

  const flush = (): void => {
    const text = pending.split(prompt).join('');
    pending = '';
    if (text) forwardStderr?.(Buffer.from(text));
  };

  const onStderr = (chunk: Buffer): void => {
    if (started) {
      forwardStderr?.(chunk);
      return;
    }
    pending += chunk.toString('utf8');
    // Count prompts seen so far (a marker may arrive split across chunks: only whole ones count).
    const seen = pending.split(prompt).length - 1;
    while (prompts < seen) {
      prompts += 1;
      if (prompts === 1) stdin.write(`${revealSecret(password)}\n`);
      else stdin.end(); // asked again: the password was wrong; EOF makes sudo give up
    }
    const readyAt = pending.indexOf(ready);
    if (readyAt >= 0) {
      const after = pending.slice(readyAt + ready.length).replace(/^\n/, '');
      pending = pending.slice(0, readyAt);
      flush();
      started = true;
      if (after) forwardStderr?.(Buffer.from(after));
      if (prompts <= 1) startCommandInput();
    }
  };

  return {
    command,
    options: { ...options, stdin, onStderr },
    rejected: () => prompts > 1,
    flush,
  };
}

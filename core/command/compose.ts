import { cmd, joinCommands, quoted, toCommand, type Command, type CommandInput } from './command.js';
import type { Secret } from './secret.js';

/** `a && b && c`: stops at the first failure. */
export function and(...commands: CommandInput[]): Command {
  return joinCommands(' && ', commands);
}

/** `a || b`. */
export function or(...commands: CommandInput[]): Command {
  return joinCommands(' || ', commands);
}

/** `a | b | c`. */
export function pipe(...commands: CommandInput[]): Command {
  return joinCommands(' | ', commands);
}

/** `cd dir && command`. A dir starting with '-' gets './' so cd does not read it as an option. */
export function inDir(dir: string, command: CommandInput): Command {
  return and(cmd`cd ${dir.startsWith('-') ? `./${dir}` : dir}`, command);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws unless `name` can be exported by a POSIX shell. */
export function assertEnvName(name: string): void {
  if (!ENV_NAME.test(name)) {
    throw new TypeError(`env: "${name}" is not a valid environment variable name (letters, digits and _, not starting with a digit)`);
  }
}

export type EnvValue = string | number | boolean | Secret;

/**
 * `export A='1' B='2' && command`. Exported in the command itself because
 * sshd ignores the SSH `env` request unless AcceptEnv allows the name.
 */
export function withEnv(vars: Readonly<Record<string, EnvValue>>, command: CommandInput): Command {
  const names = Object.keys(vars);
  if (names.length === 0) return toCommand(command);
  const assignments: Command[] = names.map((name) => {
    assertEnvName(name);
    const value = vars[name] as EnvValue;
    return cmd`${rawName(name)}=${typeof value === 'object' ? value : String(value)}`;
  });
  return and(joinCommands(' ', [cmd`export`, ...assignments]), command);
}

function rawName(name: string): Command {
  return toCommand(name); // validated above: a bare identifier needs no quoting
}

/** `sh -c '<command>'`: runs a composed command as one program (for sudo, timeouts, nohup). */
export function shell(command: CommandInput): Command {
  return joinCommands(' ', [cmd`sh -c`, quoted(command)]);
}

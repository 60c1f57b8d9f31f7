import { and, cmd, joinCommands, toCommand, withEnv, type Command, type EnvValue } from '../command/index.js';
import { cdArg } from './paths.js';

/** Where and how a Host's commands run; each context helper returns a Host with a changed copy. */
export interface HostContext {
  readonly cwd?: string;
  readonly env: Readonly<Record<string, EnvValue>>;
  readonly prefixes: readonly Command[];
  /** Set when commands run through sudo; `user` undefined means root. */
  readonly sudo?: { readonly user?: string };
}

/** The command inside its context: `export … && cd … && prefixes && command`. */
export function inContext(context: HostContext, command: Command): Command {
  const { cwd, env, prefixes } = context;
  if (cwd === undefined && prefixes.length === 0 && Object.keys(env).length === 0) return command;
  const steps = [...(cwd === undefined ? [] : [cmd`cd ${cdArg(cwd)}`]), ...prefixes.map(group), group(command)];
  return withEnv(env, and(...steps));
}

/**
 * Shell syntax that could run part of a script even when what precedes it
 * in an `&&` chain failed: `;`, newlines, `||`, a single `&`, a comment.
 * (Quoted text may match too; grouping it anyway is harmless.)
 */
const ESCAPES_AND_CHAIN = /;|\n|\|\||(^|[^&])&($|[^&])|(^|[\s;&|()])#/;

/**
 * `{ script; }` when the script could escape the `cd … &&` in front of it,
 * so a failed cd stops everything; plain otherwise, to keep logs readable.
 * A newline closes the group where `; }` would break the script: after a
 * comment, a trailing `&` or `;`, and in multi-line scripts (a trailing
 * newline, a here-document's closing delimiter).
 */
function group(command: Command): Command {
  const text = command.display();
  if (!ESCAPES_AND_CHAIN.test(text)) return command;
  const close = /(^|[\s;&|()])#|[&;]\s*$|\n/.test(text) ? '\n}' : '; }';
  return joinCommands('', [cmd`{ `, command, toCommand(close)]);
}


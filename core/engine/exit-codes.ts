/**
 * What `deployr` exits with, and what RunResult#exitCode holds. Documented in
 * the README; scripts rely on them.
 */
export const ExitCode = {
  ok: 0,
  /** A task failed on at least one host. */
  taskFailed: 1,
  /** Bad command line or config: nothing was run. */
  usage: 2,
  /** A host could not be reached, authenticated or trusted (host key). */
  connection: 3,
  /** Another run holds the deploy lock (wait for it, --lock-wait, or `deployr unlock`). */
  locked: 4,
  /** Stopped by Ctrl-C or SIGTERM. */
  interrupted: 130,
} as const;

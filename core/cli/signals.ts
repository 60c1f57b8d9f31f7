import { InterruptedError } from '../errors.js';

export interface SignalTrap {
  /** Aborted by the first Ctrl-C/SIGTERM: in-flight commands stop, failure hooks run. */
  readonly signal: AbortSignal;
  /** Aborted by the second: failure and done hooks stop too. */
  readonly cleanupSignal: AbortSignal;
  release(): void;
}

/**
 * Ctrl-C and SIGTERM, handled so a deploy winds down instead of dying
 * mid-switch: the first stops commands and runs the failure hooks, the
 * second skips what is left of the cleanup, the third exits at once.
 */
export function trapSignals(say: (line: string) => void): SignalTrap {
  const run = new AbortController();
  const cleanup = new AbortController();
  let count = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    count += 1;
    if (count === 1) {
      say(`${name}: stopping commands on every host and running failure hooks (press Ctrl-C again to skip them)`);
      run.abort(new InterruptedError(`Interrupted by ${name}`, { hint: 'run the task again when ready' }));
    } else if (count === 2) {
      say(`${name} again: skipping the rest of the cleanup (once more to exit at once)`);
      cleanup.abort(new InterruptedError(`Cleanup interrupted by ${name}`));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: run.signal,
    cleanupSignal: cleanup.signal,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

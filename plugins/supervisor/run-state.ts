import type { SharedState } from 'deployr';
import type { HostFacts } from './host-facts.js';

/** What one run did to the program on one host, so a failed deploy can put it back. */
export interface HostRun {
  facts?: Promise<HostFacts>;
  /** The program file before this run wrote it: its text, or null when there was none. Set only when this run changed it. */
  previousConf?: string | null;
  /** This run stopped, started or restarted the program here (or changed its file). */
  touched: boolean;
  /** Stopped before the switch ('stop-start') and not started since. */
  stopped: boolean;
}

interface RunState {
  readonly hosts: Map<string, HostRun>;
  /** The tail of the one-host-at-a-time queue ('rolling'). */
  queue: Promise<unknown>;
  /** The host whose rolling restart failed: the others do not go on. */
  rollingFailedOn?: string;
}

/**
 * Per-run state of one plugin instance (two supervisor() plugins in one
 * config keep theirs apart), keyed by the run's `ctx.shared`, which every
 * task and hook of one run gets and which is dropped with the run.
 */
export class RunStates {
  private readonly runs = new WeakMap<SharedState, RunState>();

  run(shared: SharedState): RunState {
    let state = this.runs.get(shared);
    if (!state) {
      state = { hosts: new Map(), queue: Promise.resolve() };
      this.runs.set(shared, state);
    }
    return state;
  }

  host(shared: SharedState, host: string): HostRun {
    const hosts = this.run(shared).hosts;
    let state = hosts.get(host);
    if (!state) {
      state = { touched: false, stopped: false };
      hosts.set(host, state);
    }
    return state;
  }

  /** Runs `work` after every earlier call of this run has finished: one host at a time. */
  oneAtATime<T>(shared: SharedState, work: () => Promise<T>): Promise<T> {
    const state = this.run(shared);
    const result = state.queue.then(work, work);
    state.queue = result.catch(() => undefined);
    return result;
  }
}

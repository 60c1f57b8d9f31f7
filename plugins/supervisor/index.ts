/**
 * deployr:supervisor — runs your app under supervisord, the way
 * collective.hostout's hostout.supervisor does for buildouts: installs
 * supervisor where it is missing, writes the program's file into conf.d
 * (a diff under --dry-run, untouched when unchanged), restarts the program
 * around the switch and waits until it runs; a program that does not start
 * fails the deploy, which puts every host back on the previous release.
 *
 * ```ts
 * import { supervisor } from 'deployr/plugins/supervisor';
 * plugins: [supervisor({ program: 'shop', command: ['/usr/bin/node', 'server.js'], environment: { PORT: 8080 }, roles: ['app'] })],
 * ```
 */
import { validateOptions, type Plugin } from 'deployr';
import { optionsSchema, type ResolvedOptions, type SupervisorOptions } from './options.js';
import { ProgramSteps } from './program.js';
import { RunStates } from './run-state.js';
import { NAME, tapHooks } from './strategies.js';
import { registerTasks } from './tasks.js';

export type { SupervisorOptions, RestartStrategy, EnvironmentValues, StopSignal } from './options.js';
export { renderProgram, type ProgramHost } from './render.js';

/** The plugin. Options are checked here, so a bad config fails when it loads, with every problem listed. */
export function supervisor(options: SupervisorOptions): Plugin {
  const resolved: ResolvedOptions = validateOptions(optionsSchema, options, NAME);
  return {
    name: NAME,
    apply(deployr) {
      const states = new RunStates();
      const steps = new ProgramSteps(resolved, states);
      tapHooks(deployr.hooks, steps, states);
      registerTasks(deployr, steps);
    },
  };
}

// When the plugin acts during a deploy, a rollback and a failed deploy, per
// restart strategy. Every tap carries the plugin's name, so a failure reads
// `[deployr:supervisor] failed in "switch" on h1: …`.
import { DeployrError, releaseOf, type DeployrHooks, type TaskContext } from 'deployr';
import type { ProgramSteps } from './program.js';
import type { RunStates } from './run-state.js';

export const NAME = 'deployr:supervisor';
/** Restarts come after other plugins' taps of the same hook (a build step, a config file the app reads). */
const LATE = { name: NAME, stage: 10 };

/** Hosts the program runs on: those with one of `roles`, or all. */
export function runsHere(ctx: Pick<TaskContext, 'roles'>, roles: readonly string[] | undefined): boolean {
  return roles === undefined || ctx.roles.some((role) => roles.includes(role));
}

export function tapHooks(hooks: DeployrHooks, steps: ProgramSteps, states: RunStates): void {
  const { restart, roles, program } = steps.options;
  const here = (ctx: TaskContext): boolean => runsHere(ctx, roles);

  // Before any host switches: a host that cannot run supervisord fails here, and no host switches.
  hooks.prepare.tapPromise(NAME, async (ctx) => {
    if (!here(ctx)) return;
    await steps.ensureSupervisord(ctx);
    if (restart === 'stop-start') await steps.stop(ctx);
  });

  if (restart === 'rolling') {
    // After every host switched, one host at a time; the first that fails stops the roll.
    hooks.postdeploy.tapPromise(LATE, async (ctx) => {
      if (!here(ctx)) return;
      const run = states.run(ctx.shared);
      await states.oneAtATime(ctx.shared, async () => {
        if (run.rollingFailedOn !== undefined) {
          throw new DeployrError(`${program} was not restarted on ${ctx.target.name}: the rolling restart stopped at ${run.rollingFailedOn}, where it did not start`, {
            host: ctx.target.name,
            hint: `this host runs the new release's files with the old process; fix the release and deploy again, or: deployr rollback ${ctx.environment.name}`,
          });
        }
        try {
          await steps.apply(ctx, 'restart', 'postdeploy', { remember: false });
        } catch (error) {
          run.rollingFailedOn = ctx.target.name;
          throw error;
        }
      });
    });
  } else {
    // Right after this host's current points at the new release: a throw switches every host back.
    hooks.switch.tapPromise(LATE, async (ctx) => {
      if (!here(ctx)) return;
      const action = restart === 'none' ? 'none' : restart === 'stop-start' ? 'start' : 'restart';
      await steps.apply(ctx, action, 'switch', { remember: true });
    });
  }

  hooks.rollback.tapPromise(LATE, async (ctx) => {
    if (!here(ctx)) return;
    if (releaseOf(ctx)?.kind === 'rollback') {
      // `deployr rollback`: the program runs the release it went back to.
      if (restart === 'none') return;
      const again = () => steps.control(ctx, 'restart', 'rollback');
      await (restart === 'rolling' ? states.oneAtATime(ctx.shared, again) : again());
      return;
    }
    // A failed deploy switched this host back: undo what this run did to the program here.
    if (steps.state(ctx).touched) await steps.restore(ctx, restart !== 'none');
  });

  // Hosts stopped before the switch that never got to start again (the deploy failed before or during the switch elsewhere).
  hooks.failure.tapPromise(NAME, async (failure) => {
    if (failure.dryRun) return;
    const stopped = [...states.run(failure.shared).hosts].filter(([, host]) => host.stopped).map(([name]) => name);
    const results = await Promise.allSettled(
      stopped.map(async (name) => {
        const ctx = await failure.contextFor(name, 'supervisor:start');
        await steps.control(ctx, 'start', 'failure');
        steps.state(ctx).stopped = false;
      }),
    );
    for (const [index, result] of results.entries()) {
      if (result.status === 'rejected') {
        const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
        failure.log.warn(`${stopped[index] as string}: ${program} was stopped for the deploy and did not start again: ${reason}`);
      }
    }
  });
}

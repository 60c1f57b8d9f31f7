// The steps the plugin takes on one host. Hooks (strategies.ts) and tasks
// (tasks.ts) put them together.
import { setTimeout as sleep } from 'node:timers/promises';
import { cmd, DeployrError, ensurePackages, syncFile, type TaskContext } from 'deployr';
import { pidCommand, removeFileCommand, restartCommand, startCommand, startServiceCommand, statusCommand, stopCommand, updateCommand } from './commands.js';
import { readHostFacts, type HostFacts } from './host-facts.js';
import type { ResolvedOptions } from './options.js';
import { renderProgram } from './render.js';
import type { HostRun, RunStates } from './run-state.js';
import { isUnknownProgram } from './status.js';
import { waitUntilRunning, type Stage } from './wait.js';

const SUPERVISORD_WAIT_MS = 30_000;

export class ProgramSteps {
  constructor(
    readonly options: ResolvedOptions,
    private readonly states: RunStates,
  ) {}

  /** This run's record of the program on this host. */
  state(ctx: TaskContext): HostRun {
    return this.states.host(ctx.shared, ctx.target.name);
  }

  /** Read once per run and host. */
  facts(ctx: TaskContext): Promise<HostFacts> {
    const state = this.state(ctx);
    state.facts ??= readHostFacts(ctx, this.options);
    return state.facts;
  }

  /** supervisor installed (when `install`) and supervisord running. */
  async ensureSupervisord(ctx: TaskContext): Promise<void> {
    const facts = await this.facts(ctx);
    if (this.options.install) await ensurePackages(ctx, ['supervisor'], { os: facts.os });
    if (await this.supervisordRuns(ctx)) return;
    if (!this.options.install) {
      throw new DeployrError(`supervisord does not run on ${ctx.target.name} (supervisorctl cannot reach it)`, {
        host: ctx.target.name,
        hint: 'install and start supervisor there, or leave the install option on (the default) to have deployr do it',
      });
    }
    await ctx.host.sudo(startServiceCommand(facts.service), { signal: ctx.signal });
    ctx.log.info(ctx.dryRun ? `would start ${facts.service}` : `${facts.service}: started`);
    if (!ctx.dryRun) await this.waitForSupervisord(ctx, facts.service);
  }

  private async supervisordRuns(ctx: TaskContext): Promise<boolean> {
    const pid = await ctx.host.sudo(pidCommand(), { readOnly: true, nothrow: true, quiet: true, signal: ctx.signal });
    return pid.ok && /^\d+$/.test(pid.stdout.trim());
  }

  /** The init script returns once the daemon forked; its socket comes a moment later. */
  private async waitForSupervisord(ctx: TaskContext, service: string): Promise<void> {
    const deadline = Date.now() + SUPERVISORD_WAIT_MS;
    while (!(await this.supervisordRuns(ctx))) {
      if (Date.now() > deadline) {
        throw new DeployrError(`${service} was started on ${ctx.target.name} but supervisorctl cannot reach it after ${SUPERVISORD_WAIT_MS / 1000}s`, {
          host: ctx.target.name,
          hint: 'look at /var/log/supervisor/supervisord.log there (deployr sudo <env> -- tail /var/log/supervisor/supervisord.log)',
        });
      }
      await sleep(300, undefined, { signal: ctx.signal });
    }
  }

  /**
   * Writes the program file (a diff under --dry-run, nothing when it is
   * unchanged) and loads it into supervisord when it changed, or when
   * supervisord does not know the program yet. Returns whether it loaded it:
   * `update` has then (re)started the program already if autostart is on.
   */
  async syncProgram(ctx: TaskContext, options: { remember: boolean }): Promise<boolean> {
    const facts = await this.facts(ctx);
    const state = this.state(ctx);
    const result = await syncFile(ctx, { path: facts.confFile, content: renderProgram(this.options, facts.program), sudo: true });
    const changed = result.status !== 'unchanged';
    // What the file was before this run first changed it: what a switch back restores.
    if (changed && options.remember && state.previousConf === undefined) state.previousConf = result.previous;
    // Unchanged, but never loaded: a run that failed between writing and loading it, or a file put there by hand.
    const load = changed || (await this.unknownToSupervisord(ctx));
    if (load) {
      state.touched = true;
      await ctx.host.sudo(updateCommand(this.options.program, this.options.logDir), { signal: ctx.signal });
    }
    return load;
  }

  private async unknownToSupervisord(ctx: TaskContext): Promise<boolean> {
    const status = await ctx.host.sudo(statusCommand(this.options.program), { readOnly: true, nothrow: true, quiet: true, signal: ctx.signal });
    return isUnknownProgram(`${status.stdout}${status.stderr}`);
  }

  /**
   * Syncs the program file, then has the program run the current release:
   * `restart` (or `start` when it is stopped, or was just loaded), and waits
   * for RUNNING. `none` only loads a changed file (and starts it when
   * autostart is on: supervisord would, a moment later).
   */
  async apply(ctx: TaskContext, action: 'restart' | 'start' | 'none', stage: Stage, options: { remember: boolean }): Promise<void> {
    const loaded = await this.syncProgram(ctx, options);
    const state = this.state(ctx);
    if (action === 'none' && !(loaded && this.options.autostart)) return;
    state.touched = true;
    // After `update` the new processes are STOPPED until supervisord's loop autostarts them: `start` does it now
    // (or answers "already started"), so the wait below never mistakes that moment for a failed start.
    const command = action === 'restart' && !loaded && !state.stopped ? restartCommand(this.options.program) : startCommand(this.options.program);
    // The verdict comes from the wait below, which says why and shows the logs; this output is in the run log.
    await ctx.host.sudo(command, { nothrow: true, signal: ctx.signal });
    if (ctx.dryRun) return;
    await waitUntilRunning(ctx, this.options, stage);
    state.stopped = false;
  }

  /** `supervisorctl start|restart` and the wait for RUNNING, or `stop`: the tasks, and restarts outside a deploy. */
  async control(ctx: TaskContext, action: 'start' | 'stop' | 'restart', stage: Stage): Promise<void> {
    const program = this.options.program;
    if (action === 'stop') {
      await ctx.host.sudo(stopCommand(program), { signal: ctx.signal });
      return;
    }
    await ctx.host.sudo(action === 'start' ? startCommand(program) : restartCommand(program), { nothrow: true, signal: ctx.signal });
    if (!ctx.dryRun) await waitUntilRunning(ctx, this.options, stage);
  }

  /** Stops the program before the switch ('stop-start'); nothing to do when supervisord does not know it yet. */
  async stop(ctx: TaskContext): Promise<void> {
    if (await this.unknownToSupervisord(ctx)) return;
    const state = this.state(ctx);
    state.touched = true;
    state.stopped = true;
    await ctx.host.sudo(stopCommand(this.options.program), { signal: ctx.signal });
  }

  /**
   * After a failed deploy switched this host back: the program file as it
   * was before this run, and the program running the release now current.
   */
  async restore(ctx: TaskContext, restart: boolean): Promise<void> {
    const state = this.state(ctx);
    const facts = await this.facts(ctx);
    let loaded = false;
    if (state.previousConf === null) {
      // This run created the program: it goes away again.
      await ctx.host.sudo(removeFileCommand(facts.confFile), { signal: ctx.signal });
      await ctx.host.sudo(updateCommand(this.options.program, this.options.logDir), { signal: ctx.signal });
      ctx.log.info(`${facts.confFile}: removed (${this.options.program} was new in the failed deploy)`);
      state.stopped = false;
      return;
    }
    if (state.previousConf !== undefined) {
      await syncFile(ctx, { path: facts.confFile, content: state.previousConf, sudo: true });
      await ctx.host.sudo(updateCommand(this.options.program, this.options.logDir), { signal: ctx.signal });
      loaded = true;
    }
    if (!restart && !state.stopped && !(loaded && this.options.autostart)) return;
    const command = loaded || state.stopped ? startCommand(this.options.program) : restartCommand(this.options.program);
    await ctx.host.sudo(command, { nothrow: true, signal: ctx.signal });
    if (ctx.dryRun) return;
    await waitUntilRunning(ctx, this.options, 'rollback');
    state.stopped = false;
  }
}

import type { DeployrHooks } from '../engine/hooks.js';
import type { TaskContext } from '../engine/context.js';
import type { TaskRegistry } from '../engine/registry.js';
import { createRunId } from '../engine/run-id.js';
import { series } from '../engine/task.js';
import { ReleaseError } from '../errors.js';
import { lockFleet } from './fleet-lock.js';
import { deployToOf, manifestPath, releasePath } from './layout.js';
import { createManifest } from './manifest.js';
import { commandsOf, prepareSource } from './prepare-source.js';
import { pruneCommand, releasesToPrune } from './prune.js';
import { readReleaseState } from './remote-state.js';
import { linkSharedCommand, sharedEntries } from './shared-links.js';
import { releaseRun, type ReleaseRun } from './state.js';
import { switchCommand } from './switch.js';
import { unlockFleet } from './unlock-fleet.js';
import { fillRelease, uploadRelease } from './upload.js';

export interface ReleaseSetup {
  readonly registry: TaskRegistry;
  readonly hooks: DeployrHooks;
  /** The config file's directory: `release.source` is relative to it. */
  readonly root: string;
  readonly app: string;
  /** Where run logs go, relative to root: never shipped. */
  readonly logDir: string;
}

/** `deploy`, step by step. Each is a task you can override or put tasks before/after (`before: { 'deploy:switch': 'db:migrate' }`). */
export const DEPLOY_STEPS = [
  'deploy:lock',
  'deploy:predeploy',
  'deploy:source',
  'deploy:update',
  'deploy:shared',
  'deploy:build',
  'deploy:prepare',
  'deploy:switch',
  'deploy:postdeploy',
  'deploy:cleanup',
  'deploy:unlock',
] as const;

/**
 * Registers `deploy` and its steps. A series step runs on every host before
 * the next starts and a failure anywhere stops the rest, which is the
 * two-phase cutover: no host reaches deploy:switch before every host has
 * prepared. What a failed run leaves is undone by the failure hook (undo.ts).
 */
export function registerDeployTasks({ registry, hooks, root, app, logDir }: ReleaseSetup): void {
  const run = (ctx: TaskContext): ReleaseRun => releaseRun(ctx.shared, 'deploy');
  const release = (ctx: TaskContext): { run: ReleaseRun; id: string; deployTo: string } => {
    const state = run(ctx);
    if (!state.target) throw new ReleaseError(`${ctx.task} ran before deploy:lock chose the release id`, { hint: 'keep deploy:lock first when you change the deploy series' });
    return { run: state, id: state.target, deployTo: deployToOf(ctx.environment) };
  };
  const task = (name: (typeof DEPLOY_STEPS)[number], description: string, fn: (ctx: TaskContext) => Promise<unknown>, options: { once?: boolean; local?: boolean } = {}): void => {
    registry.register(name, fn, { description, ...options });
  };

  task(
    'deploy:lock',
    'lock every selected host; a deploy already running makes this fail (or wait, with --lock-wait)',
    async (ctx) => {
      const state = run(ctx);
      await lockFleet(ctx, state);
      // The release id is taken once the lock is held, not when the run started: a deploy that waited
      // (--lock-wait) must still sort after the release it waited for, or rollback and cleanup would misorder them.
      state.target = createRunId();
    },
    { once: true },
  );
  task('deploy:predeploy', 'fire the "predeploy" hook: checks before anything changes', (ctx) => hooks.predeploy.promise(ctx));
  task(
    'deploy:source',
    'on this machine: run release.buildLocally, then scan and hash what to ship',
    async (ctx) => {
      run(ctx).source = await prepareSource(ctx, root, logDir);
    },
    { local: true },
  );
  task('deploy:update', 'make releases/<id> from the previous release and upload only what changed; then fire the "deploy" hook', async (ctx) => {
    const { run: state, id, deployTo } = release(ctx);
    if (!state.source) throw new ReleaseError('deploy:update ran before deploy:source', { hint: 'keep deploy:source before deploy:update when you change the deploy series' });
    if (state.source.fill) await fillRelease(ctx, state, state.source, deployTo, id);
    else await uploadRelease(ctx, state, state.source, deployTo, id);
    await hooks.deploy.promise(ctx);
  });
  task('deploy:shared', 'link the shared files and directories into the new release', async (ctx) => {
    const { id, deployTo } = release(ctx);
    const link = linkSharedCommand(id, sharedEntries(ctx.environment.release.shared));
    if (link) await ctx.host.cd(deployTo).exec(link);
  });
  task('deploy:build', 'run release.build in the new release, then write its manifest: the release is complete', async (ctx) => {
    const { run: state, id, deployTo } = release(ctx);
    const inRelease = ctx.host.cd(deployTo).cd(releasePath(id)).env({ DEPLOYR_RELEASE: id, DEPLOYR_ENVIRONMENT: ctx.environment.name });
    for (const command of commandsOf(ctx.environment.release.build)) await inRelease.exec(command);
    if (!state.source) return;
    const git = state.source.git;
    const manifest = createManifest({
      id,
      app,
      environment: ctx.environment.name,
      host: ctx.target.name,
      tree: state.source.tree,
      ...(state.hostFiles.has(ctx.target.name) ? { files: state.hostFiles.get(ctx.target.name) } : {}),
      shared: ctx.environment.release.shared ?? [],
      source: git ? { commit: git.commit, ...(git.ref ? { ref: git.ref } : {}), dirty: git.dirty } : {},
    });
    await ctx.host.cd(deployTo).writeFile(manifestPath(id), `${JSON.stringify(manifest, null, 2)}\n`, { signal: ctx.signal });
  });
  task('deploy:prepare', 'fire the "prepare" hook: the release is built, no host has switched yet', (ctx) => hooks.prepare.promise(ctx));
  task('deploy:switch', 'point current at the new release (atomic rename); runs once every host has prepared', async (ctx) => {
    const { run: state, id, deployTo } = release(ctx);
    // Recorded before the command: one stopped by Ctrl-C or a lost connection may still have
    // switched the host, and switching back a host that did not switch changes nothing.
    state.switched.add(ctx.target.name);
    await ctx.host.cd(deployTo).exec(switchCommand(id));
    ctx.log.info(ctx.dryRun ? `would switch current → ${id}` : `current → ${id}`);
    await hooks.switch.promise(ctx);
  });
  task('deploy:postdeploy', 'fire the "postdeploy" hook: every host has switched', async (ctx) => {
    run(ctx).committed = true;
    await hooks.postdeploy.promise(ctx);
  });
  task('deploy:cleanup', 'remove old releases (keeping keepReleases) and unfinished ones; fire the "cleanup" hook', async (ctx) => {
    const { run: state, id, deployTo } = release(ctx);
    // What the upload read, plus the release it made: under the lock nothing else changed releases/.
    const before = state.before.get(ctx.target.name);
    const now = before ? { ...before, current: id, releases: [...before.releases, { id, complete: true }] } : await readReleaseState(ctx.host, deployTo, ctx.signal);
    const prune = pruneCommand(releasesToPrune(now, ctx.environment.keepReleases, [id]));
    if (prune) await ctx.host.cd(deployTo).exec(prune);
    await hooks.cleanup.promise(ctx);
  });
  task('deploy:unlock', 'release the lock on every host', (ctx) => unlockFleet(ctx, run(ctx)), { once: true });
  registry.register('deploy', series(...DEPLOY_STEPS), {
    description: 'ship a new release to every selected host: lock, predeploy, upload, shared, build, prepare, switch, postdeploy, cleanup, unlock',
  });
}

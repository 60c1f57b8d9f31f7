/**
 * deployr:virtualenv — a Python virtualenv for each release, built on the
 * hosts from the release's requirements, rebuilt only when they (or the
 * interpreter) change. See README.md.
 *
 * ```ts
 * import { virtualenv, venv } from 'deployr/plugins/virtualenv';
 * plugins: [virtualenv({ requirements: ['requirements.txt'] })],
 * tasks: { migrate: (ctx) => venv(ctx).exec('python manage.py migrate') },
 * ```
 */
import path from 'node:path';
import { ConfigError, releaseOf, type Deployr, type Plugin, type TaskContext } from 'deployr';
import { ensureVenv } from './ensure.js';
import { join, linkPath, resolveDeployTo } from './layout.js';
import { PLUGIN_NAME, settingsOf, type VirtualenvOptions, type VirtualenvSettings } from './options.js';
import { pruneVenvs } from './prune.js';
import { builtKey, venvRun } from './run-state.js';

export { venv } from './helper.js';
export { optionsSchema, type VirtualenvOptions, type VirtualenvSettings } from './options.js';

const namesInUse = new WeakMap<Deployr, Set<string>>();

/**
 * The plugin. Options are checked here, when the config is loaded: every
 * problem at once, as a config error.
 */
export function virtualenv(options: VirtualenvOptions = {}): Plugin {
  const settings = settingsOf(options);
  return {
    name: PLUGIN_NAME,
    apply(deployr) {
      claimName(deployr, settings.name);
      const tap = { name: PLUGIN_NAME };
      const here = (ctx: TaskContext): boolean => !settings.roles || ctx.roles.some((role) => settings.roles?.includes(role));

      deployr.hooks.start.tap(tap, (run) => {
        venvRun(run.shared).configured.set(settings.name, settings);
        checkAgainstRelease(settings, run.environment.release.shared ?? []);
      });

      // The helper is synchronous and must work in any task, so deployTo is made absolute as each host connects.
      deployr.hooks.connect.tapPromise(tap, async (ctx) => {
        if (!here(ctx) || ctx.environment.deployTo === undefined) return;
        await deployToOn(ctx);
      });

      // The release's files are there; shared links and release.build come next, and build can use the venv.
      deployr.hooks.deploy.tapPromise(tap, async (ctx) => {
        if (!here(ctx)) return;
        const release = releaseOf(ctx);
        if (!release) return;
        const deployTo = await deployToOn(ctx);
        const releaseDir = join(deployTo, `releases/${release.id}`);
        const source = path.resolve(deployr.root, ctx.environment.release.source ?? '.');
        const outcome = await ensureVenv(ctx, settings, { deployTo, release: releaseDir, localSource: source, link: true });
        if (outcome.venv) venvRun(ctx.shared).built.set(builtKey(settings.name, ctx.target.name), { release: releaseDir, venv: outcome.venv });
      });

      if (settings.scope === 'release') {
        deployr.hooks.cleanup.tapPromise(tap, async (ctx) => {
          if (!here(ctx)) return;
          await pruneVenvs(ctx, settings, await deployToOn(ctx));
        });
      } else {
        // One venv for every release: going back to a release means going back to its requirements.
        deployr.hooks.rollback.tapPromise(tap, async (ctx) => {
          const release = releaseOf(ctx);
          // After a failed deploy, the host went back to the release it was on (none: nothing to do).
          const back = release?.kind === 'rollback' ? release.id : release?.previous;
          if (!here(ctx) || back === undefined) return;
          const deployTo = await deployToOn(ctx);
          const releaseDir = join(deployTo, `releases/${back}`);
          const outcome = await ensureVenv(ctx, settings, { deployTo, release: releaseDir, link: false });
          if (outcome.venv) venvRun(ctx.shared).built.set(builtKey(settings.name, ctx.target.name), { release: releaseDir, venv: outcome.venv });
        });
      }
    },
  };
}

/** deployTo, absolute on this host; read once per run and host. */
async function deployToOn(ctx: TaskContext): Promise<string> {
  const known = venvRun(ctx.shared).deployTo;
  const found = known.get(ctx.target.name);
  if (found !== undefined) return found;
  const deployTo = ctx.environment.deployTo;
  if (deployTo === undefined) {
    throw new ConfigError(`environment "${ctx.environment.name}" has no deployTo, so there is nowhere to put venvs`, { hint: "set deployTo in deploy.config.ts, e.g. deployTo: '/srv/myapp'" });
  }
  const absolute = await resolveDeployTo(ctx.host, deployTo.replace(/\/+$/, '') || '/', ctx.signal);
  known.set(ctx.target.name, absolute);
  return absolute;
}

function claimName(deployr: Deployr, name: string): void {
  const names = namesInUse.get(deployr) ?? new Set<string>();
  if (names.has(name)) {
    throw new ConfigError(`${PLUGIN_NAME}: two virtualenv() plugins are named "${name}"`, { hint: "give each its own name option, e.g. virtualenv({ name: 'tools', … })" });
  }
  names.add(name);
  namesInUse.set(deployr, names);
}

/** A `release.shared` entry at `dir` would be linked over the venv right after the deploy hook made it. */
function checkAgainstRelease(settings: VirtualenvSettings, shared: readonly string[]): void {
  const dir = linkPath(settings.dir);
  const clash = shared.find((entry) => linkPath(entry) === dir);
  if (clash !== undefined) {
    throw new ConfigError(`${PLUGIN_NAME}: release.shared has "${clash}", where each release gets its venv link (dir: "${settings.dir}")`, {
      hint: "remove it from release.shared; for one venv shared by every release use scope: 'shared'",
    });
  }
}

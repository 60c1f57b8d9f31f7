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
import { ConfigError, releaseOf, type Plugin, type TaskContext } from 'deployr';
import { ensureVenv } from './ensure.js';
import { linkPath, releaseDirOf, resolveDeployTo } from './layout.js';
import { DEFAULT_NAME, PLUGIN_NAME, settingsOf, type VirtualenvOptions, type VirtualenvSettings } from './options.js';
import { pruneVenvs } from './prune.js';
import { builtKey, venvRun } from './run-state.js';

export { venv } from './helper.js';
export { optionsSchema, type VirtualenvOptions, type VirtualenvSettings } from './options.js';

/** The settings of every virtualenv() made, so each can check that the others are not in its place. */
const venvPlugins = new WeakMap<Plugin, VirtualenvSettings>();

/**
 * The plugin. Options are checked here, when the config is loaded: every
 * problem at once, as a config error.
 */
export function virtualenv(options: VirtualenvOptions = {}): Plugin {
  const settings = settingsOf(options);
  // Core refuses a plugin listed twice by name: a second venv (its own `name`) is a plugin of its own name.
  const name = settings.name === DEFAULT_NAME ? PLUGIN_NAME : `${PLUGIN_NAME}:${settings.name}`;
  const plugin: Plugin = {
    name,
    apply(deployr) {
      // Checked before any run: the config's release settings and the other venvs are known by now.
      const others = deployr.plugins.flatMap((other) => (other !== plugin && venvPlugins.has(other) ? [venvPlugins.get(other) as VirtualenvSettings] : []));
      checkPlace(settings, deployr.environment?.release.shared ?? [], others);
      const tap = { name };
      const here = (ctx: TaskContext): boolean => !settings.roles || ctx.roles.some((role) => settings.roles?.includes(role));

      deployr.hooks.start.tap(tap, (run) => {
        venvRun(run.shared).configured.set(settings.name, settings);
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
        const releaseDir = releaseDirOf(deployTo, release.id);
        // What the deploy ships from (release.source, or a dir a plugin such as git chose); a host-filled release has no local copy.
        const shipped = release.source ?? { kind: 'local' as const, dir: path.resolve(deployr.root, ctx.environment.release.source ?? '.') };
        const outcome = await ensureVenv(ctx, settings, { deployTo, release: releaseDir, ...(shipped.kind === 'local' ? { localSource: shipped.dir } : {}), link: true });
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
          const releaseDir = releaseDirOf(deployTo, back);
          const outcome = await ensureVenv(ctx, settings, { deployTo, release: releaseDir, link: false });
          if (outcome.venv) venvRun(ctx.shared).built.set(builtKey(settings.name, ctx.target.name), { release: releaseDir, venv: outcome.venv });
        });
      }
    },
  };
  venvPlugins.set(plugin, settings);
  return plugin;
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

/**
 * `<release>/<dir>` must be this venv's alone: a `release.shared` entry there
 * would be linked over it right after the deploy hook, another venv's link
 * would replace it.
 */
function checkPlace(settings: VirtualenvSettings, shared: readonly string[], others: readonly VirtualenvSettings[]): void {
  const dir = linkPath(settings.dir);
  const clash = shared.find((entry) => linkPath(entry) === dir);
  if (clash !== undefined) {
    throw new ConfigError(`virtualenv "${settings.name}": release.shared has "${clash}", where each release gets its venv link (dir: "${settings.dir}")`, {
      hint: "remove it from release.shared; for one venv shared by every release use scope: 'shared'",
    });
  }
  const other = others.find((venv) => linkPath(venv.dir) === dir && venv.name !== settings.name);
  if (other !== undefined) {
    throw new ConfigError(`virtualenvs "${other.name}" and "${settings.name}" both link <release>/${dir}`, { hint: "give one of them another dir, e.g. dir: '.venv-tools'" });
  }
}

import { cmd, ConfigError, releaseOf, type Host, type TaskContext } from 'deployr';
import { join, linkPath, releaseDirOf, sharedVenvPath } from './layout.js';
import type { VirtualenvSettings } from './options.js';
import { builtKey, venvRun } from './run-state.js';

type Ctx = Pick<TaskContext, 'host' | 'shared' | 'environment' | 'target'>;

/**
 * A Host whose commands run in the release directory with the venv active
 * (`VIRTUAL_ENV` set, its `bin/` first in `PATH`), as `. .venv/bin/activate`
 * would, without a shell function:
 *
 * ```ts
 * tasks: { migrate: (ctx) => venv(ctx).exec('python manage.py migrate') }
 * ```
 *
 * In a deploy, after the "deploy" hook made the venv on this host: the new
 * release and its venv (so `release.build`-time tasks, `prepare` and
 * `before: { 'deploy:switch': … }` use what is about to go live). In a
 * rollback: the release rolled back to. Otherwise: `current`. With several
 * virtualenv() plugins, `name` picks one.
 */
export function venv(ctx: Ctx, name?: string): Host {
  const settings = configured(ctx, name);
  const run = venvRun(ctx.shared);
  const deployTo = run.deployTo.get(ctx.target.name);
  if (deployTo === undefined) {
    throw new ConfigError(`venv(ctx): virtualenv "${settings.name}" is not on ${ctx.target.name}`, {
      hint:
        ctx.environment.deployTo === undefined
          ? `environment "${ctx.environment.name}" has no deployTo: set it, venvs live there`
          : settings.roles
            ? `it is only on hosts with the roles ${settings.roles.join(', ')}`
            : 'call venv(ctx) from a task or per-host hook',
    });
  }
  const built = run.built.get(builtKey(settings.name, ctx.target.name));
  const release = releaseOf(ctx);
  const releaseDir = built?.release ?? (release?.kind === 'rollback' ? releaseDirOf(deployTo, release.id) : join(deployTo, 'current'));
  const venvDir = built?.venv ?? (settings.scope === 'shared' ? join(deployTo, sharedVenvPath(settings)) : join(releaseDir, linkPath(settings.dir)));
  // `pwd -P`: the venv's own path, as its scripts name it; a missing venv stops the command here.
  return ctx.host.cd(releaseDir).prefix(cmd`VIRTUAL_ENV=$(cd ${venvDir} && pwd -P) && export VIRTUAL_ENV && PATH="$VIRTUAL_ENV/bin:$PATH" && export PATH && unset PYTHONHOME`);
}

function configured(ctx: Ctx, name: string | undefined): VirtualenvSettings {
  const all = venvRun(ctx.shared).configured;
  if (all.size === 0) {
    throw new ConfigError('venv(ctx): no virtualenv() plugin in this config', { hint: "add virtualenv({ … }) to the config's plugins" });
  }
  if (name === undefined) {
    if (all.size === 1) return [...all.values()][0] as VirtualenvSettings;
    throw new ConfigError(`venv(ctx): this config has ${all.size} virtualenvs (${[...all.keys()].join(', ')}); say which: venv(ctx, '<name>')`);
  }
  const found = all.get(name);
  if (!found) throw new ConfigError(`venv(ctx, '${name}'): no virtualenv() is named "${name}"`, { hint: `the config has: ${[...all.keys()].join(', ')}` });
  return found;
}

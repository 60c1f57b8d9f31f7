/**
 * deployr's git plugin: deploy a commit of a git repository instead of
 * the project directory as it is.
 *
 * ```ts
 * import { git } from 'deployr/plugins/git';
 * plugins: [git({ ref: 'main' })]                                     // archive: export here, upload
 * plugins: [git({ strategy: 'remote', url: 'git@github.com:me/app.git', sshKey: '~/.ssh/deploy_key' })]
 * ```
 * It registers `git:source`, run before `deploy:source`, which picks the
 * commit and hands it to core as the release's source (useReleaseSource);
 * the commit and ref land in each release's manifest and `deployr status`.
 */
import type { Plugin, TaskContext } from 'deployr';
import { archiveSource } from './archive-source.js';
import { NAME, optionsSchema, parseOptions, type GitPluginOptions } from './options.js';
import { remoteSource } from './remote-source.js';
import { warnIgnoredSettings } from './settings-warnings.js';
import { TempDirs } from './temp-dirs.js';

export type { GitPluginOptions };
export { optionsSchema as gitOptionsSchema };

export const SOURCE_TASK = 'git:source';
/** deployr's default `logDir` (README: "per-host run logs, default .deployr/logs next to the config"). */
const DEFAULT_LOG_DIR = '.deployr/logs';

export function git(options: GitPluginOptions = {}): Plugin {
  const parsed = parseOptions(options);
  return {
    name: NAME,
    apply(deployr) {
      if (parsed.strategy === 'archive') {
        const temps = new TempDirs();
        const logDir = deployr.config.logDir ?? DEFAULT_LOG_DIR;
        const run = async (ctx: TaskContext): Promise<void> => {
          warnIgnoredSettings(ctx, parsed);
          await archiveSource(ctx, parsed, deployr.root, logDir, temps);
        };
        deployr.task(SOURCE_TASK, run, {
          description: 'on this machine: resolve the ref, refuse a dirty work tree, git archive the commit as the release source',
          local: true,
        });
        // Whatever happened, the exported tree goes: it is only this run's.
        deployr.hooks.done.tapPromise(NAME, (done) => temps.removeAll(done.shared));
      } else {
        const run = async (ctx: TaskContext): Promise<void> => {
          warnIgnoredSettings(ctx, parsed);
          await remoteSource(ctx, parsed);
        };
        deployr.task(SOURCE_TASK, run, {
          description: 'resolve the ref to one commit for every host; each host then fetches its mirror and exports that commit into the release',
          ...(parsed.resolveOn === 'local' ? { local: true } : { once: true }),
        });
      }
      deployr.before('deploy:source', SOURCE_TASK);
    },
  };
}

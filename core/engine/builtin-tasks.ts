import type { DeployrHooks, PerHostHookName } from './hooks.js';
import type { TaskRegistry } from './registry.js';
import { series } from './task.js';

/** The steps of `deploy`, each firing its hook on every host; a step starts only when the previous one is done everywhere. */
const DEPLOY_STEPS: ReadonlyArray<readonly [task: string, hook: PerHostHookName]> = [
  ['deploy:predeploy', 'predeploy'],
  ['deploy:update', 'deploy'],
  ['deploy:prepare', 'prepare'],
  ['deploy:switch', 'switch'],
  ['deploy:postdeploy', 'postdeploy'],
  ['deploy:cleanup', 'cleanup'],
];

/**
 * The tasks every deployr has. They only fire hooks: what happens in them
 * comes from plugins and your config. Override any of them under `tasks`.
 */
export function registerBuiltinTasks(registry: TaskRegistry, hooks: DeployrHooks): void {
  for (const [task, hook] of DEPLOY_STEPS) {
    registry.register(task, (ctx) => hooks[hook].promise(ctx), { description: `fire the "${hook}" hook on every host` });
  }
  registry.register('deploy', series(...DEPLOY_STEPS.map(([task]) => task)), {
    description: 'deploy to every selected host: predeploy, update, prepare, switch, postdeploy, cleanup',
  });
  registry.register('rollback', (ctx) => hooks.rollback.promise(ctx), { description: 'fire the "rollback" hook on every host' });
}

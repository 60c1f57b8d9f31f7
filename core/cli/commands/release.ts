import { checkReleaseId } from '../../release/rollback-tasks.js';
import type { HostOptions } from '../options.js';
import { openProject, runTask } from '../session.js';

export interface ReleaseOptions extends HostOptions {
  /** Seconds to wait for another run's lock. */
  lockWait?: number;
  /** rollback: the release to go back to. */
  to?: string;
}

/** `deployr deploy <env>`, `deployr rollback <env> [--to id]`: the release tasks with their options as run params. */
export async function releaseCommand(task: 'deploy' | 'rollback', environment: string, options: ReleaseOptions): Promise<number> {
  // A bad --to is a usage error, found before any host is locked.
  if (task === 'rollback' && options.to !== undefined) checkReleaseId(options.to, environment);
  const project = await openProject(environment, options);
  const params = {
    ...(options.lockWait === undefined ? {} : { lockWait: options.lockWait }),
    ...(options.to === undefined ? {} : { to: options.to }),
  };
  return runTask(project, task, task, options, [], params);
}

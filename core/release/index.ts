import { registerDeployTasks, type ReleaseSetup } from './deploy-tasks.js';
import { registerRollbackTasks } from './rollback-tasks.js';
import { tapUndo } from './undo.js';
import { registerUnlockTask } from './unlock-task.js';

export { DEPLOY_STEPS } from './deploy-tasks.js';
export { ROLLBACK_STEPS } from './rollback-tasks.js';
export { hostStatus, findDrift, type HostStatus } from './status.js';
export { formatStatus } from './format-status.js';
export { releaseOf, type ReleaseInfo } from './release-info.js';
export { useReleaseSource, type ReleaseSource, type LocalReleaseSource, type HostReleaseSource } from './release-source.js';
export type { GitInfo } from './source/index.js';
export type { ReleaseManifest } from './manifest.js';
export type { UploadReport } from './upload.js';
export type { ReleaseSetup } from './deploy-tasks.js';

/** Releases are core: every deployr has deploy, rollback and unlock, and undoes a failed deploy. */
export function registerReleaseTasks(setup: ReleaseSetup): void {
  registerDeployTasks(setup);
  registerRollbackTasks(setup.registry, setup.hooks);
  registerUnlockTask(setup.registry);
  tapUndo(setup.hooks);
}

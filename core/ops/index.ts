// Building blocks for plugins (first- and third-party alike): idempotent
// steps that read first, change only what differs, and report the same way.
export { unifiedDiff, type DiffOptions } from './line-diff.js';
export { reportChange, type ChangeReport, type ChangeStatus } from './change.js';
export { syncFile, type FileSpec, type FileSyncResult } from './sync-file.js';
export {
  detectOs,
  parseOsRelease,
  ensurePackages,
  missingPackagesCommand,
  installPackagesCommand,
  type OsInfo,
  type PackageManager,
} from './os.js';

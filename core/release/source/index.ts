export { scanSource, type ScanOptions, type SourceFile, type SourceTree } from './scan.js';
export { gitInfo, type GitInfo } from './git-info.js';

import path from 'node:path';

/** How a file is named in messages: relative to where the user runs deployr ('deploy.config.ts', '../deploy.config.ts'), or absolute when that is shorter. */
export function displayPath(file: string, cwd: string): string {
  if (!path.isAbsolute(file)) return file;
  const relative = path.relative(cwd, file);
  return relative !== '' && relative.length < file.length ? relative : file;
}

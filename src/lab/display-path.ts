import path from 'node:path';

/** A path as the user should see it: relative to the project when inside it, absolute otherwise. */
export function displayPath(file: string, projectDir: string): string {
  const relative = path.relative(projectDir, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

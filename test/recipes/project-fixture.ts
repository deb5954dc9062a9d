import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';

export const PROJECT_DIR = path.resolve(import.meta.dirname, '../..');

/** A throwaway project directory holding `files` (relative path → content), removed after the test. */
export async function makeProject(
  t: ExecutionContext,
  files: Readonly<Record<string, string>>,
): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'recipes-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
  return dir;
}

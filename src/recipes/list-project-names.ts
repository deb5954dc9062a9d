import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_LAB_FILE } from '../lab/default-lab-file.ts';

/** Names of `recipes/<name>.yaml`, sorted; the default lab file lives there too and is not a recipe. */
export async function listRecipeNames(projectDir: string): Promise<string[]> {
  const entries = await readEntries(path.join(projectDir, 'recipes'));
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.yaml'))
    .filter((entry) => `recipes/${entry.name}` !== DEFAULT_LAB_FILE)
    .map((entry) => entry.name.slice(0, -'.yaml'.length))
    .sort();
}

/** Names of the directories `overlays/<name>/`, sorted. */
export async function listOverlayNames(projectDir: string): Promise<string[]> {
  const entries = await readEntries(path.join(projectDir, 'overlays'));
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

async function readEntries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

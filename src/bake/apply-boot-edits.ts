import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { makeFatDirectory, readFatFile, writeFatFile } from '../tools/mtools.ts';
import { parentDirectories } from './parent-directories.ts';
import type { FileEdit } from './bake-types.ts';

/** Writes the edits into a FAT image with mtools (entries take the pinned time), then reads them back. */
export async function applyBootEdits(
  image: string,
  edits: readonly FileEdit[],
  scratchDir: string,
  pinnedTime: number,
): Promise<void> {
  await mkdir(scratchDir, { recursive: true });
  const directories = [...new Set(edits.flatMap((edit) => parentDirectories(edit.path)))].sort(
    (a, b) => a.length - b.length,
  );
  for (const directory of directories) await makeFatDirectory(image, directory);
  for (const [index, edit] of edits.entries()) {
    const local = path.join(scratchDir, `boot-${index}-${path.basename(edit.path)}`);
    await writeFile(local, edit.content);
    await writeFatFile(image, local, edit.path, pinnedTime);
  }
  const problems: string[] = [];
  for (const edit of edits) {
    const readBack = await readFatFile(image, edit.path);
    if (!readBack.equals(edit.content))
      problems.push(`${edit.path}: read back ${readBack.length} bytes, wrote ${edit.content.length}`);
  }
  if (problems.length > 0)
    throw new ToolError(
      'the boot partition does not read back as written',
      `mtools ${image}`,
      'mismatch',
      problems.join('\n'),
    );
}

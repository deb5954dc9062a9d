import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { makeFatDirectories, readFatFilesInto, writeFatFilesInto } from '../tools/mtools.ts';
import { parentDirectories } from './parent-directories.ts';
import type { FileEdit } from './bake-types.ts';

/**
 * Writes the edits into a FAT image with mtools (entries take the pinned time), then reads them back.
 * One mcopy writes each run of edits into the same directory, in the edits' order: the image is the
 * one a separate mcopy per edit would give, for a fraction of the processes.
 */
export async function applyBootEdits(
  image: string,
  edits: readonly FileEdit[],
  scratchDir: string,
  pinnedTime: number,
): Promise<void> {
  const directories = [...new Set(edits.flatMap((edit) => parentDirectories(edit.path)))].sort(
    (a, b) => a.length - b.length,
  );
  await makeFatDirectories(image, directories, pinnedTime);
  const writes = splitRuns(edits, (edit, run) =>
    run.every(
      (other) =>
        path.posix.dirname(other.path) === path.posix.dirname(edit.path) &&
        fatName(other.path) !== fatName(edit.path),
    ),
  );
  for (const [index, run] of writes.entries()) {
    const [first] = run;
    if (!first) continue;
    const localDir = path.join(scratchDir, `write-${index}`);
    await mkdir(localDir, { recursive: true });
    const localFiles: string[] = [];
    for (const edit of run) {
      // mcopy names each entry after its local file.
      const local = path.join(localDir, path.posix.basename(edit.path));
      await writeFile(local, edit.content);
      await utimes(local, pinnedTime, pinnedTime);
      localFiles.push(local);
    }
    await writeFatFilesInto(image, localFiles, path.posix.dirname(first.path));
  }

  const problems: string[] = [];
  const reads = splitRuns(edits, (edit, run) =>
    run.every((other) => path.posix.basename(other.path) !== path.posix.basename(edit.path)),
  );
  for (const [index, run] of reads.entries()) {
    const localDir = path.join(scratchDir, `read-${index}`);
    await mkdir(localDir, { recursive: true });
    await readFatFilesInto(
      image,
      run.map((edit) => edit.path),
      localDir,
    );
    for (const edit of run) {
      const readBack = await readFile(path.join(localDir, path.posix.basename(edit.path)));
      if (!readBack.equals(edit.content))
        problems.push(`${edit.path}: read back ${readBack.length} bytes, wrote ${edit.content.length}`);
    }
  }
  if (problems.length > 0)
    throw new ToolError(
      'the boot partition does not read back as written',
      `mtools ${image}`,
      'mismatch',
      problems.join('\n'),
    );
}

/** FAT compares names without case: two edits of one entry must not share an mcopy. */
function fatName(target: string): string {
  return path.posix.basename(target).toLowerCase();
}

/** Consecutive runs of edits, each edit joining the current run while `fits` says so. */
function splitRuns(
  edits: readonly FileEdit[],
  fits: (edit: FileEdit, run: readonly FileEdit[]) => boolean,
): FileEdit[][] {
  const runs: FileEdit[][] = [];
  for (const edit of edits) {
    const current = runs.at(-1);
    if (current && fits(edit, current)) current.push(edit);
    else runs.push([edit]);
  }
  return runs;
}

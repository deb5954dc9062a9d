import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { debugfsPath, readExt4File, runDebugfsRequests, statExt4Paths } from '../tools/debugfs.ts';
import { parentDirectories } from './parent-directories.ts';
import type { FileEdit, RootVariant } from './bake-types.ts';

const DIRECTORY_MODE = 0o040755;
const REGULAR_FILE = 0o100000;

/** Writes the variant's files and links into an ext4 image with debugfs, then reads them back. */
export async function applyRootEdits(
  image: string,
  variant: RootVariant,
  scratchDir: string,
  fakeTime: number,
): Promise<void> {
  await mkdir(scratchDir, { recursive: true });
  const targets = [...variant.files.map((f) => f.path), ...variant.symlinks.map((s) => s.path)];
  const directories = [...new Set(targets.flatMap(parentDirectories))].sort(
    (a, b) => a.split('/').length - b.split('/').length,
  );
  const existing = await statExt4Paths(image, [...directories, ...targets], scratchDir);
  const requests: string[] = [];
  for (const directory of directories) {
    const found = existing.get(directory);
    if (found && found.type !== 'directory') {
      throw new ToolError(
        `${directory} in the root filesystem is a ${found.type}, not a directory`,
        'debugfs stat',
        'conflict',
        '',
      );
    }
    if (!found)
      requests.push(`mkdir ${debugfsPath(directory)}`, ...ownership(directory, DIRECTORY_MODE, 0, 0));
  }
  for (const [index, file] of variant.files.entries()) {
    const local = path.join(scratchDir, `file-${index}`);
    await writeFile(local, file.content);
    if (existing.get(file.path)) requests.push(`rm ${debugfsPath(file.path)}`);
    requests.push(
      `write ${local} ${debugfsPath(file.path)}`,
      ...ownership(file.path, REGULAR_FILE | file.mode, file.uid, file.gid),
    );
  }
  for (const link of variant.symlinks) {
    if (existing.get(link.path)) requests.push(`rm ${debugfsPath(link.path)}`);
    requests.push(`symlink ${debugfsPath(link.path)} ${debugfsPath(link.linkTo)}`);
  }
  await runDebugfsRequests(image, requests, { writable: true, workDir: scratchDir, env: { fakeTime } });
  await verifyRootEdits(image, variant, scratchDir);
}

function ownership(target: string, mode: number, uid: number, gid: number): string[] {
  const quoted = debugfsPath(target);
  return [`sif ${quoted} mode 0${mode.toString(8)}`, `sif ${quoted} uid ${uid}`, `sif ${quoted} gid ${gid}`];
}

async function verifyRootEdits(image: string, variant: RootVariant, scratchDir: string): Promise<void> {
  const stats = await statExt4Paths(
    image,
    [...variant.files.map((f) => f.path), ...variant.symlinks.map((s) => s.path)],
    scratchDir,
  );
  const problems: string[] = [];
  for (const file of variant.files) {
    const found = stats.get(file.path);
    if (!found) problems.push(`${file.path}: missing`);
    else if (!matches(found, file))
      problems.push(`${file.path}: ${describeStat(found)}, expected ${describeWanted(file)}`);
    else if (!(await readExt4File(image, file.path)).equals(file.content))
      problems.push(`${file.path}: content differs`);
  }
  for (const link of variant.symlinks) {
    if (stats.get(link.path)?.type !== 'symlink') problems.push(`${link.path}: not a symlink`);
  }
  if (problems.length > 0)
    throw new ToolError(
      'the root filesystem does not read back as written',
      `debugfs stat ${image}`,
      'mismatch',
      problems.join('\n'),
    );
}

function matches(
  found: { type: string; mode: number; uid: number; gid: number; size: number },
  file: FileEdit,
): boolean {
  return (
    found.type === 'regular' &&
    (found.mode & 0o7777) === file.mode &&
    found.uid === file.uid &&
    found.gid === file.gid &&
    found.size === file.content.length
  );
}

function describeStat(found: { type: string; mode: number; uid: number; gid: number; size: number }): string {
  return `${found.type} ${(found.mode & 0o7777).toString(8)} ${found.uid}:${found.gid} ${found.size} bytes`;
}

function describeWanted(file: FileEdit): string {
  return `regular ${file.mode.toString(8)} ${file.uid}:${file.gid} ${file.content.length} bytes`;
}

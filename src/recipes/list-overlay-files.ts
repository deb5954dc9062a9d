import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from '../lab/problem.ts';
import type { Target } from './recipe-types.ts';

export interface OverlayFile {
  readonly target: Target;
  /** Absolute inside the target, still with any .mustache suffix. */
  readonly sourcePath: string;
  readonly source: string;
}

export interface OverlayTree {
  readonly files: readonly OverlayFile[];
  readonly hasAttributesFile: boolean;
  readonly problems: readonly Problem[];
}

export const ATTRIBUTES_FILE = 'overlay.yaml';
const TARGETS: readonly Target[] = ['boot', 'rootfs'];

/** Lists an overlay's files in a stable order (byte order of names, depth first), whatever the file system's. */
export async function listOverlayFiles(dir: string, shown: string): Promise<OverlayTree> {
  const problems: Problem[] = [];
  const files: OverlayFile[] = [];
  let hasAttributesFile = false;
  for (const entry of sortByName(await readdir(dir, { withFileTypes: true }))) {
    const target = TARGETS.find((name) => name === entry.name);
    if (target && entry.isDirectory()) {
      await walk(path.join(dir, target), '', target, `${shown}/${target}`, files, problems);
    } else if (entry.name === ATTRIBUTES_FILE && entry.isFile()) {
      hasAttributesFile = true;
    } else {
      problems.push({
        file: `${shown}/${entry.name}`,
        path: '',
        message: 'is not part of an overlay',
        fix: `put files under boot/ (the boot partition) or rootfs/ (the root file system), attributes in ${ATTRIBUTES_FILE}`,
      });
    }
  }
  return { files, hasAttributesFile, problems };
}

async function walk(
  dir: string,
  relative: string,
  target: Target,
  shown: string,
  files: OverlayFile[],
  problems: Problem[],
): Promise<void> {
  for (const entry of sortByName(await readdir(dir, { withFileTypes: true }))) {
    const source = path.join(dir, entry.name);
    const sourcePath = `${relative}/${entry.name}`;
    if (entry.isDirectory()) await walk(source, sourcePath, target, shown, files, problems);
    else if (entry.isFile()) files.push({ target, sourcePath, source });
    else {
      problems.push({
        file: `${shown}${sourcePath}`,
        path: '',
        message: entry.isSymbolicLink() ? 'is a symlink' : 'is not a regular file',
        fix: `declare symlinks under "symlinks:" in ${ATTRIBUTES_FILE}`,
      });
    }
  }
}

function sortByName<T extends { name: string }>(entries: T[]): T[] {
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

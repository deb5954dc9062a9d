import { lstat, readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { command } from '../exec/command.ts';
import { runCommand } from '../exec/run-command.ts';

/**
 * Adds `extraDir` to `stagingDir` without replacing anything already staged. Hard links when
 * possible (benchmarks stage gigabytes), a copy otherwise; `-n` lets the second pass fill in
 * whatever the first could not link. Staged files linked this way must never be written to.
 */
export async function mergeExtraDir(extraDir: string, stagingDir: string): Promise<void> {
  const from = `${extraDir}/.`;
  const to = `${stagingDir}/`;
  try {
    await runCommand(command('cp', ['-a', '-n', '-l', from, to]));
  } catch {
    await runCommand(command('cp', ['-a', '-n', from, to]));
  }
}

export interface StagedPath {
  /** Relative to the staging dir, '/'-separated, no leading slash. */
  readonly path: string;
  readonly uid: number;
  readonly gid: number;
  readonly isDirectory: boolean;
}

/** Every path under `root`, parents before children, in a stable order. */
export async function listStagedPaths(root: string, relative = ''): Promise<StagedPath[]> {
  const names = (await readdir(path.join(root, relative))).sort();
  const result: StagedPath[] = [];
  for (const name of names) {
    const rel = relative ? `${relative}/${name}` : name;
    const stat = await lstat(path.join(root, rel));
    result.push({ path: rel, uid: stat.uid, gid: stat.gid, isDirectory: stat.isDirectory() });
    if (stat.isDirectory()) result.push(...(await listStagedPaths(root, rel)));
  }
  return result;
}

/**
 * Sets the times of the given files and of every directory (deepest first, after their contents
 * changed). Merged files are left alone: they may be hard links to the caller's files.
 */
export async function pinTimes(root: string, ownFiles: readonly string[], seconds: number): Promise<void> {
  for (const file of ownFiles) await utimes(path.join(root, file), seconds, seconds);
  const directories = (await listStagedPaths(root)).filter((entry) => entry.isDirectory).reverse();
  for (const dir of directories) await utimes(path.join(root, dir.path), seconds, seconds);
  await utimes(root, seconds, seconds);
}

import { constants, copyFile, link, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { isProcessAlive } from '../exec/is-process-alive.ts';

/**
 * A host's image is assembled under `.bake-<host>.tmp-<pid>` and swapped in by rename, so the
 * previous image stays whole until the new one is complete and verified.
 */
export function stagingDirectory(outDir: string, host: string): string {
  return path.join(outDir, `.bake-${host}.tmp-${process.pid}`);
}

function retiredDirectory(outDir: string, host: string): string {
  return path.join(outDir, `.bake-${host}.old-${process.pid}`);
}

export async function swapIntoPlace(outDir: string, host: string, staging: string): Promise<void> {
  const target = path.join(outDir, host);
  const retired = retiredDirectory(outDir, host);
  await syncDirectory(staging);
  const hadPrevious = await stat(target).then(
    () => true,
    () => false,
  );
  if (hadPrevious) await rename(target, retired);
  await rename(staging, target);
  await syncDirectory(outDir);
  if (hadPrevious) await rm(retired, { recursive: true, force: true });
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Hard link when possible (same filesystem), else a copy: unchanged partition images are never re-encoded. */
export async function linkOrCopy(source: string, target: string): Promise<'linked' | 'copied'> {
  try {
    await link(source, target);
    return 'linked';
  } catch {
    await copyFile(source, target);
    return 'copied';
  }
}

const LEFTOVER = /^\.bake-(?:(.+)\.(tmp|old)|work)-(\d+)(?:-.*)?$/;

/**
 * Cleans what an interrupted bake left: staging and scratch directories are removed, and an image
 * that was retired just before its replacement landed is put back.
 */
export async function recoverInterruptedBakes(outDir: string): Promise<void> {
  const entries = await readdir(outDir).catch(() => [] as string[]);
  for (const entry of entries) {
    const match = LEFTOVER.exec(entry);
    if (!match || isProcessAlive(Number(match[3]))) continue;
    const host = match[1];
    const full = path.join(outDir, entry);
    if (
      match[2] === 'old' &&
      host &&
      !(await stat(path.join(outDir, host)).then(
        () => true,
        () => false,
      ))
    ) {
      await rename(full, path.join(outDir, host));
    } else {
      await rm(full, { recursive: true, force: true });
    }
  }
}

/** One bake per output directory at a time. */
export async function acquireOutputLock(outDir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(outDir, '.bake.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(lockFile, 'utf8').catch(() => '0')) || 0;
      if (owner && isProcessAlive(owner)) {
        throw new UserError(`Another bake (pid ${owner}) is writing to ${outDir}.`, [
          'Wait for it to finish, or bake into another --out directory.',
        ]);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new UserError(`Cannot lock ${outDir} for baking.`);
}

import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from './temp-dir.ts';

/*
 * mkdir is atomic, so a directory is a lock shared by every process on the machine (ava workers,
 * other test runs). The owner's pid inside lets a waiter break the lock of a process that died.
 */

const ORPHAN_MS = 60_000;

export async function tryLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''));
    const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
    // No pid yet means the owner is between mkdir and writeFile, unless that was long ago.
    const dead = owner > 0 ? !isProcessAlive(owner) : age > ORPHAN_MS;
    if (dead) await rm(lock, { recursive: true, force: true });
    return false;
  }
  await writeFile(path.join(lock, 'pid'), String(process.pid));
  return true;
}

export async function releaseLock(lock: string): Promise<void> {
  await rm(lock, { recursive: true, force: true });
}

/** Holds one of `slots` locks named `<prefix>-<n>` while `work` runs. */
export async function withSlot<T>(
  prefix: string,
  slots: number,
  waitMs: number,
  work: () => Promise<T>,
): Promise<T> {
  await mkdir(path.dirname(prefix), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    for (let slot = 0; slot < slots; slot++) {
      const lock = `${prefix}-${slot}`;
      if (await tryLock(lock)) {
        try {
          return await work();
        } finally {
          await releaseLock(lock);
        }
      }
    }
    if (Date.now() > deadline)
      throw new Error(`no free ${path.basename(prefix)} slot after ${waitMs / 1000} s`);
    await sleep(250 + Math.random() * 250);
  }
}

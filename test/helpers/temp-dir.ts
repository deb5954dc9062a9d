import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The pid in the name lets a later run tell which leftovers (and loop devices) belong to a dead process. */
export const TEST_TEMP_PREFIX = 'pi-lab-test-';
export const TEST_TEMP_PID = new RegExp(`/${TEST_TEMP_PREFIX}(\\d+)-`);

export interface TempDir {
  readonly path: string;
  remove(): Promise<void>;
}

export async function makeTempDir(): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${TEST_TEMP_PREFIX}${process.pid}-`));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export { isProcessAlive } from '../../src/exec/is-process-alive.ts';

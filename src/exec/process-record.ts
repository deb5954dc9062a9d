import { AsyncLocalStorage } from 'node:async_hooks';
import type { Command } from './command.ts';

const recordings = new AsyncLocalStorage<Command[]>();

/**
 * Runs `work` and lists every process it started, in order: how a test asserts what ran (a re-bake
 * with nothing to do starts no partclone) without standing in for any tool. Only `work`'s own
 * asynchronous context is recorded, so tests running side by side do not see each other's.
 */
export async function recordProcesses<T>(
  work: () => Promise<T>,
): Promise<{ readonly result: T; readonly started: readonly Command[] }> {
  const started: Command[] = [];
  const result = await recordings.run(started, work);
  return { result, started };
}

/** Called by run-command for each process it is about to start. */
export function noteStarted(cmd: Command): void {
  recordings.getStore()?.push(cmd);
}

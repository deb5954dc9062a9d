import { statfs } from 'node:fs/promises';
import { describeError, ToolError, UserError } from '../errors.ts';
import { formatBytes } from '../format-units.ts';

/** ENOSPC from node, or a tool saying so in its own words (partclone checks the room first). */
const NO_SPACE = /No space left on device|ENOSPC|doesn't have enough free space/i;

export function isOutOfSpace(error: unknown): boolean {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') return true;
  const text = error instanceof ToolError ? `${error.message}\n${error.outputTail}` : describeError(error);
  return NO_SPACE.test(text);
}

/** A full disk stops every host alike: said once, as bad input, with what to do. */
export async function outOfSpaceError(outDir: string): Promise<UserError> {
  const free = await statfs(outDir).then(
    (fs) => formatBytes(fs.bavail * fs.bsize),
    () => 'unknown',
  );
  return new UserError(`No space left on the disk holding ${outDir} (${free} free now).`, [
    'Free some space there, or bake into another directory with --out; the earlier images are intact and the partial ones were removed.',
  ]);
}

import { open, rename, rm } from 'node:fs/promises';

/** Writes to a temporary name beside the target, syncs, then renames over it. */
export async function writeFileAtomically(
  target: string,
  content: string | Buffer,
  mode = 0o644,
): Promise<void> {
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    const file = await open(temporary, 'w', mode);
    try {
      await file.writeFile(content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

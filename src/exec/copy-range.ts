import type { FileHandle } from 'node:fs/promises';

const BLOCK = 1 << 20;

/** Copies `length` bytes at `offset` of one open file to `toOffset` of another. */
export async function copyRange(
  from: FileHandle,
  offset: number,
  length: number,
  to: FileHandle,
  toOffset: number,
): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(BLOCK, Math.max(1, length)));
  let done = 0;
  while (done < length) {
    const { bytesRead } = await from.read(buffer, 0, Math.min(buffer.length, length - done), offset + done);
    if (bytesRead === 0) throw new Error(`copyRange: the source ends before byte ${offset + length}`);
    await to.write(buffer, 0, bytesRead, toOffset + done);
    done += bytesRead;
  }
}

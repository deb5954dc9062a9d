import type { FileHandle } from 'node:fs/promises';

/** Writes all of `data` at `position`: a single write may take only part of it. */
export async function writeAll(file: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await file.write(data, done, data.length - done, position + done);
    if (bytesWritten === 0) throw new Error(`wrote nothing at byte ${position + done}: is the disk full?`);
    done += bytesWritten;
  }
}

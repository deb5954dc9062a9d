import { createReadStream } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { PartitionImage } from './read-image.ts';

/** Clonezilla splits one compressed stream into `.aa`, `.ab`… pieces: read them back to back. */
export function concatenatedPieces(imageDir: string, partition: PartitionImage): PassThrough {
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  void (async () => {
    try {
      for (const file of partition.files) {
        for await (const data of createReadStream(path.join(imageDir, file), { highWaterMark: 1 << 20 })) {
          if (!output.write(data)) await new Promise((resolve) => output.once('drain', resolve));
        }
      }
      output.end();
    } catch (error) {
      output.destroy(error as Error);
    }
  })();
  return output;
}

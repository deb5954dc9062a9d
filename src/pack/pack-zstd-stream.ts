import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ToolError } from '../errors.ts';
import { spawnStreaming } from '../exec/run-command.ts';
import { decompressCommand, zstdCompressCommand } from '../tools/compression.ts';
import type { PackResult } from './pack-stream.ts';
import { writeAll } from './write-all.ts';

/** zstd images are recompressed whole, then decompressed once more and compared before use. */
export async function packZstdStream(
  source: Readable,
  output: string,
  onBytes?: (raw: number) => void,
): Promise<PackResult> {
  const zstd = spawnStreaming(zstdCompressCommand(), { stdin: 'pipe' });
  const rawHash = createHash('sha256');
  let rawBytes = 0;
  source.on('data', (data: Buffer) => {
    rawHash.update(data);
    rawBytes += data.length;
    onBytes?.(rawBytes);
  });
  source.pipe(zstd.stdin);
  // A source destroyed before its end must not leave zstd waiting for more, nor let it finish.
  source.once('close', () => {
    if (!source.readableEnded) zstd.kill();
  });
  const file = await open(output, 'wx', 0o600);
  const fileHash = createHash('sha256');
  let fileBytes = 0;
  try {
    for await (const data of zstd.stdout as AsyncIterable<Buffer>) {
      fileHash.update(data);
      await writeAll(file, data, fileBytes);
      fileBytes += data.length;
    }
    await zstd.done;
    await file.sync();
  } finally {
    await file.close();
  }
  const rawSha256 = rawHash.digest('hex');
  const roundTrip = await digestDecompressed(output);
  if (roundTrip !== rawSha256) {
    throw new ToolError(
      `${output} does not decompress to the stream it was made from`,
      'zstd -d -c',
      'mismatch',
      '',
    );
  }
  return { rawBytes, fileBytes, fileSha256: fileHash.digest('hex'), chunks: 1, newChunks: 1, members: [] };
}

async function digestDecompressed(file: string): Promise<string> {
  const zstd = spawnStreaming(decompressCommand('zst'), { stdin: 'pipe' });
  createReadStream(file).pipe(zstd.stdin);
  const hash = createHash('sha256');
  for await (const data of zstd.stdout as AsyncIterable<Buffer>) hash.update(data);
  await zstd.done;
  return hash.digest('hex');
}

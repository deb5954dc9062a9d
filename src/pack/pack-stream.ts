import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { ContentChunker } from './content-chunker.ts';
import type { MemberStore } from './member-store.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** pigz --fast is level 1; a whole-image tool pays this per byte, we pay it per new chunk. */
const GZIP_LEVEL = 1;
/** Two chunks compressing at once per stream: with two hosts in parallel that fills two cores. */
const IN_FLIGHT = 2;

export interface PackResult {
  readonly rawBytes: number;
  readonly fileBytes: number;
  readonly fileSha256: string;
  readonly chunks: number;
  readonly newChunks: number;
}

interface PendingMember {
  readonly member: Promise<Buffer>;
}

/**
 * Writes `source` as a multi-member gzip file: the stream is cut into content-defined chunks,
 * each compressed on its own, so a chunk already in the store is copied instead of compressed.
 * `gzip -d` (and so Clonezilla) reads the concatenated members as one stream.
 * Every new member is decompressed again and compared before it is used.
 */
export async function packGzipStream(
  source: Readable,
  output: string,
  store: MemberStore,
  onBytes?: (raw: number) => void,
): Promise<PackResult> {
  const file = await open(output, 'wx', 0o600);
  const fileHash = createHash('sha256');
  let rawBytes = 0;
  let fileBytes = 0;
  let chunks = 0;
  let newChunks = 0;
  const queue: PendingMember[] = [];

  const writeOldest = async (): Promise<void> => {
    const next = queue.shift();
    if (!next) return;
    const member = await next.member;
    fileHash.update(member);
    await file.write(member, 0, member.length, fileBytes);
    fileBytes += member.length;
  };

  try {
    const chunker = new ContentChunker();
    // Unlike pipe(), pipeline() fails the chunker when the source is destroyed before its end.
    pipeline(source, chunker, () => undefined);
    for await (const chunk of chunker as AsyncIterable<Buffer>) {
      rawBytes += chunk.length;
      chunks++;
      onBytes?.(rawBytes);
      const digest = createHash('sha256').update(chunk).digest('hex');
      if (!store.has(digest)) newChunks++;
      queue.push({ member: memberFor(chunk, digest, store) });
      if (queue.length >= IN_FLIGHT) await writeOldest();
    }
    while (queue.length > 0) await writeOldest();
    await file.sync();
  } finally {
    await Promise.allSettled(queue.map((pending) => pending.member));
    await file.close();
  }
  return {
    rawBytes,
    fileBytes,
    fileSha256: fileHash.digest('hex'),
    chunks,
    newChunks,
  };
}

function memberFor(chunk: Buffer, digest: string, store: MemberStore): Promise<Buffer> {
  return store.obtain(digest, async () => {
    const member = await gzipAsync(chunk, { level: GZIP_LEVEL });
    const roundTrip = await gunzipAsync(member);
    if (createHash('sha256').update(roundTrip).digest('hex') !== digest) {
      throw new Error('gzip produced a member that does not decompress to its input');
    }
    return member;
  });
}

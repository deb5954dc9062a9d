import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { ContentChunker } from './content-chunker.ts';
import type { MemberEntry } from './member-index.ts';
import type { MemberStore } from './member-store.ts';
import { writeAll } from './write-all.ts';
import type { StageTimes } from '../values/stage-times.ts';

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
  /** Every member in the order written, for the next bake to reuse. */
  readonly members: readonly MemberEntry[];
}

/**
 * A chunk on its way to the file: a member already stored (read when its turn comes; an adopted
 * one keeps its chunk, to be compressed after all if its file changed) or one being made.
 */
type PendingMember = { readonly digest: string } & (
  { readonly stored: true; readonly fallback?: Buffer } | { readonly made: Promise<Buffer> }
);

/** Big enough for any member of a chunk of at most 2 MiB (gzip adds a few bytes per 16 KiB stored block). */
const MEMBER_BUFFER_BYTES = 2 * 1024 * 1024 + 64 * 1024;

/**
 * Writes `source` as a multi-member gzip file: the stream is cut into content-defined chunks,
 * each compressed on its own, so a chunk already in the store is copied instead of compressed.
 * `gzip -d` (and so Clonezilla) reads the concatenated members as one stream.
 * Every new member is decompressed again and compared before it is used.
 *
 * Each piece of `source` is used up before the next is asked for: a source may hand out views of
 * one buffer it reuses.
 */
export async function packGzipStream(
  source: AsyncIterable<Buffer>,
  output: string,
  store: MemberStore,
  onBytes?: (raw: number) => void,
  times?: StageTimes,
): Promise<PackResult> {
  const file = await open(output, 'wx', 0o600);
  const fileHash = createHash('sha256');
  const memberBuffer = Buffer.allocUnsafe(MEMBER_BUFFER_BYTES);
  let rawBytes = 0;
  let fileBytes = 0;
  let chunks = 0;
  let newChunks = 0;
  const queue: PendingMember[] = [];
  const members: MemberEntry[] = [];

  const onChunk = (chunk: Buffer): void => {
    rawBytes += chunk.length;
    chunks++;
    const digest = createHash('sha256').update(chunk).digest('hex');
    if (store.has(digest)) {
      queue.push({
        digest,
        stored: true,
        ...(store.isAdopted(digest) ? { fallback: Buffer.from(chunk) } : {}),
      });
    } else {
      newChunks++;
      // The chunk is a view of the chunker's buffer: compression needs its own copy.
      queue.push({ digest, made: memberFor(Buffer.from(chunk), digest, store, times) });
    }
  };

  const writeOldest = async (): Promise<void> => {
    const next = queue.shift();
    if (!next) return;
    let member: Buffer;
    if ('made' in next) member = await next.made;
    else {
      const stored = await store.get(next.digest, memberBuffer);
      if (stored) member = stored;
      else if (next.fallback) {
        newChunks++;
        member = await memberFor(next.fallback, next.digest, store, times);
      } else throw new Error(`member ${next.digest} is missing from the store`);
    }
    members.push({
      chunk: next.digest,
      offset: fileBytes,
      length: member.length,
      sha256: store.sha256Of(next.digest) ?? createHash('sha256').update(member).digest('hex'),
    });
    const writing = performance.now();
    fileHash.update(member);
    await writeAll(file, member, fileBytes);
    times?.add('write', (performance.now() - writing) / 1000);
    fileBytes += member.length;
  };

  try {
    const chunker = new ContentChunker();
    for await (const data of source) {
      const chunking = performance.now();
      chunker.write(data, onChunk);
      times?.add('chunk+hash', (performance.now() - chunking) / 1000);
      onBytes?.(rawBytes);
      while (queue.length >= IN_FLIGHT) await writeOldest();
    }
    chunker.end(onChunk);
    onBytes?.(rawBytes);
    while (queue.length > 0) await writeOldest();
    await file.sync();
  } finally {
    await Promise.allSettled(queue.flatMap((pending) => ('made' in pending ? [pending.made] : [])));
    await file.close();
  }
  return { rawBytes, fileBytes, fileSha256: fileHash.digest('hex'), chunks, newChunks, members };
}

function memberFor(chunk: Buffer, digest: string, store: MemberStore, times?: StageTimes): Promise<Buffer> {
  return store.obtain(digest, async () => {
    const started = performance.now();
    const member = await gzipAsync(chunk, { level: GZIP_LEVEL });
    const roundTrip = await gunzipAsync(member);
    if (createHash('sha256').update(roundTrip).digest('hex') !== digest) {
      throw new Error('gzip produced a member that does not decompress to its input');
    }
    times?.add('compress', (performance.now() - started) / 1000);
    return member;
  });
}

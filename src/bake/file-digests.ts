import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface DigestCacheEntry {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly sha256: string;
}

/** sha256 of a file, reusing a cached value while size, mtime and inode are unchanged (like git's index). */
export async function digestFile(file: string, cache: Map<string, DigestCacheEntry>): Promise<string> {
  const info = await stat(file);
  const cached = cache.get(file);
  if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs && cached.ino === info.ino)
    return cached.sha256;
  const hash = createHash('sha256');
  for await (const data of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)
    hash.update(data);
  const sha256 = hash.digest('hex');
  cache.set(file, { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, sha256 });
  return sha256;
}

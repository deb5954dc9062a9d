import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/**
 * A repacked partition image is a series of gzip members, one per content-defined chunk, and the
 * same chunk compresses to the same member in every host's image. Cut at member starts, two images
 * that differ in a few files share all but a few segments: what travels is only those.
 */
export interface Segment {
  readonly offset: number;
  readonly length: number;
  readonly sha256: string;
}

/** What every member the bake writes starts with: gzip magic, deflate, no flags, no time. */
const MEMBER_START = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
const READ_BYTES = 4 * 1024 * 1024;

export async function isSegmentable(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(MEMBER_START.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(MEMBER_START);
  } finally {
    await handle.close();
  }
}

/**
 * Segments of `file`, cut before every member start. A cut inside a member's data (a chance match)
 * costs only sharing, never correctness: segments are byte ranges, checked by their digests.
 */
export async function readSegments(file: string, readBytes = READ_BYTES): Promise<Segment[]> {
  const handle = await open(file, 'r');
  const segments: Segment[] = [];
  try {
    let hash = createHash('sha256');
    let segmentStart = 0;
    let position = 0;
    // The tail of the previous read, so that a marker split across two reads is found.
    let carry = Buffer.alloc(0);
    const buffer = Buffer.allocUnsafe(readBytes);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, readBytes, position);
      if (bytesRead === 0) break;
      const data = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
      const dataStart = position - carry.length;
      // The carried bytes were not hashed yet: they are the start of `data`.
      let hashedUpTo = 0;
      let from = 0;
      for (;;) {
        const at = data.indexOf(MEMBER_START, from);
        if (at < 0) break;
        const cut = dataStart + at;
        if (cut > segmentStart) {
          hash.update(data.subarray(hashedUpTo, at));
          segments.push({ offset: segmentStart, length: cut - segmentStart, sha256: hash.digest('hex') });
          hash = createHash('sha256');
          segmentStart = cut;
          hashedUpTo = at;
        }
        from = at + 1;
      }
      const keep = Math.min(MEMBER_START.length - 1, data.length - hashedUpTo);
      hash.update(data.subarray(hashedUpTo, data.length - keep));
      carry = Buffer.from(data.subarray(data.length - keep));
      position += bytesRead;
    }
    hash.update(carry);
    if (position > segmentStart)
      segments.push({ offset: segmentStart, length: position - segmentStart, sha256: hash.digest('hex') });
    return segments;
  } finally {
    await handle.close();
  }
}

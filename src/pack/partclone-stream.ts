import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { PARTCLONE_MAGIC } from '../tools/partclone.ts';

/*
 * partclone's v2 stream: a 110-byte header, a bitmap of used blocks (bit i of byte i/8 set for a
 * used block) followed by its checksum, then every used block in order with a checksum after each
 * group of `blocksPerChecksum` blocks and after the last, shorter group. Each checksum is zlib's
 * CRC-32 of its bytes without the final inversion, started afresh for every group (the header's
 * "reseed" flag): a group's checksum depends on that group alone.
 */

const HEADER_BYTES = 110;
const CRC32_MODE = 0x20;
const BITMAP_BITS = 1;

export interface StreamLayout {
  readonly totalBlocks: number;
  readonly usedBlocks: number;
  readonly blockSize: number;
  readonly blocksPerChecksum: number;
  /** Header, bitmap and the bitmap's checksum: everything before the first block. */
  readonly prefixBytes: number;
  /** The stream's whole length. */
  readonly streamBytes: number;
}

/** partclone's checksum of `bytes`, continuing `previous` (the checksum of the bytes before them in the group). */
export function partcloneCrc(bytes: Uint8Array, previous?: number): number {
  const running = previous === undefined ? 0 : ~previous >>> 0;
  return ~crc32(bytes, running) >>> 0;
}

/** How many prefix bytes a stream that starts with `header` (at least its 110 bytes) has. */
export function prefixBytesOf(header: Buffer): number | undefined {
  return readLayout(header)?.prefixBytes;
}

/**
 * The layout of a stream whose header is at the start of `bytes`, when this module can write
 * its blocks: a v2 stream with CRC-32 checksums restarted for every group and a bit bitmap.
 * Anything else (another version, checksum or bitmap mode) answers undefined.
 */
export function readLayout(bytes: Buffer): StreamLayout | undefined {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 15) !== PARTCLONE_MAGIC) return undefined;
  if (bytes.toString('latin1', 30, 34) !== '0002' || bytes.readUInt16LE(34) !== 0xc0de) return undefined;
  const totalBlocks = Number(bytes.readBigUInt64LE(60));
  const usedBlocks = Number(bytes.readBigUInt64LE(68));
  const blockSize = bytes.readUInt32LE(84);
  const checksumMode = bytes.readUInt16LE(96);
  const checksumSize = bytes.readUInt16LE(98);
  const blocksPerChecksum = bytes.readUInt32LE(100);
  const reseed = bytes[104];
  const bitmapMode = bytes[105];
  if (checksumMode !== CRC32_MODE || checksumSize !== 4 || reseed !== 1 || bitmapMode !== BITMAP_BITS)
    return undefined;
  if (blockSize === 0 || blocksPerChecksum === 0) return undefined;
  const prefixBytes = HEADER_BYTES + Math.ceil(totalBlocks / 8) + 4;
  const streamBytes = prefixBytes + usedBlocks * blockSize + Math.ceil(usedBlocks / blocksPerChecksum) * 4;
  return { totalBlocks, usedBlocks, blockSize, blocksPerChecksum, prefixBytes, streamBytes };
}

/** Blocks read from the filesystem at once, used or not: fewer, larger reads. */
const READ_BLOCKS_BYTES = 4 * 1024 * 1024;
/** The size of the pieces handed on. */
const PIECE_BYTES = 1024 * 1024;

/**
 * The stream partclone writes for the filesystem in `fsFile`, given the prefix (header and bitmap)
 * partclone wrote for it: every used block read from the file at its offset, with the checksums.
 * Each piece is a buffer of its own, which the consumer may keep.
 */
export async function* encodeBlocks(fsFile: string, prefix: Buffer): AsyncGenerator<Buffer> {
  const layout = readLayout(prefix);
  if (!layout || prefix.length < layout.prefixBytes)
    throw new Error('encodeBlocks: not the whole prefix of a stream it can write');
  const { totalBlocks, blockSize, blocksPerChecksum } = layout;
  const bitmap = prefix.subarray(HEADER_BYTES, layout.prefixBytes - 4);
  const isUsed = (block: number): boolean => ((bitmap[block >>> 3] ?? 0) & (1 << (block & 7))) !== 0;

  yield Buffer.from(prefix.subarray(0, layout.prefixBytes));
  const file = await open(fsFile, 'r');
  try {
    const fileBlocks = Math.floor((await file.stat()).size / blockSize);
    const window = Buffer.allocUnsafe(Math.max(READ_BLOCKS_BYTES, blockSize));
    const windowBlocks = Math.floor(window.length / blockSize);
    let piece = Buffer.allocUnsafe(PIECE_BYTES + blockSize + 4);
    let filled = 0;
    let inGroup = 0;
    let crc: number | undefined;
    let written = 0;
    for (let block = 0; block < totalBlocks;) {
      if (!isUsed(block)) {
        block++;
        continue;
      }
      const first = block;
      const count = Math.min(windowBlocks, totalBlocks - first, fileBlocks - first);
      if (count <= 0) throw new Error(`block ${first} is used but lies past the end of ${fsFile}`);
      await readFully(file, window, count * blockSize, first * blockSize);
      // Runs of used blocks, each cut where a checksum group or the piece ends.
      for (let index = 0; index < count;) {
        if (!isUsed(first + index)) {
          index++;
          continue;
        }
        let run = 1;
        const most = Math.min(
          count - index,
          blocksPerChecksum - inGroup,
          Math.max(1, Math.floor((PIECE_BYTES - filled) / blockSize)),
        );
        while (run < most && isUsed(first + index + run)) run++;
        const data = window.subarray(index * blockSize, (index + run) * blockSize);
        data.copy(piece, filled);
        crc = partcloneCrc(data, crc);
        filled += data.length;
        written += run;
        inGroup += run;
        index += run;
        if (inGroup === blocksPerChecksum) {
          piece.writeUInt32LE(crc, filled);
          filled += 4;
          inGroup = 0;
          crc = undefined;
        }
        if (filled >= PIECE_BYTES) {
          yield piece.subarray(0, filled);
          piece = Buffer.allocUnsafe(PIECE_BYTES + blockSize + 4);
          filled = 0;
        }
      }
      block = first + count;
    }
    if (written !== layout.usedBlocks)
      throw new Error(`the bitmap marks ${written} blocks used, the header says ${layout.usedBlocks}`);
    if (inGroup > 0 && crc !== undefined) {
      piece.writeUInt32LE(crc, filled);
      filled += 4;
    }
    if (filled > 0) yield piece.subarray(0, filled);
  } finally {
    await file.close();
  }
}

/** Reads `length` bytes at `position`, all within the file. */
async function readFully(
  file: Awaited<ReturnType<typeof open>>,
  into: Buffer,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await file.read(into, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`the filesystem file ends early, at byte ${position + done}`);
    done += bytesRead;
  }
}

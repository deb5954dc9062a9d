/**
 * Splits a byte stream at content-defined boundaries, so an insertion or a changed block upsets
 * only the chunks around it and every other chunk keeps its exact bytes.
 *
 * The rolling hash steps over 32-bit words, not bytes: a partclone stream shifts only by whole
 * blocks (512 bytes or more) and 4-byte checksums, so word positions relative to the start of the
 * stream stay aligned, and hashing a word at a time is four times cheaper than a byte at a time.
 */
export interface ChunkerLimits {
  /** All sizes are multiples of 4. */
  readonly minSize: number;
  /** Average distance between boundaries, as a power of two, in words. */
  readonly averageWordBits: number;
  readonly maxSize: number;
}

export const DEFAULT_CHUNK_LIMITS: ChunkerLimits = {
  minSize: 128 * 1024,
  averageWordBits: 17,
  maxSize: 2 * 1024 * 1024,
};

const WORD = 4;

/**
 * Chunks are handed to a callback as views of the chunker's own buffer, valid only during the call:
 * a caller that keeps one copies it, and most callers only hash it.
 */
export type ChunkHandler = (chunk: Buffer) => void;

export class ContentChunker {
  private readonly mask: number;
  private readonly buffer: Buffer;
  private readonly words: Uint32Array;
  private filled = 0;
  private scanned = 0;
  private hash = 0;

  constructor(private readonly limits: ChunkerLimits = DEFAULT_CHUNK_LIMITS) {
    this.mask = (1 << limits.averageWordBits) - 1;
    const storage = new ArrayBuffer(limits.maxSize * 2);
    this.buffer = Buffer.from(storage);
    this.words = new Uint32Array(storage);
  }

  /** Takes `data` (copied: the caller may reuse it at once) and hands on every chunk it completes. */
  write(data: Buffer, onChunk: ChunkHandler): void {
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(data.length - offset, this.buffer.length - this.filled);
      data.copy(this.buffer, this.filled, offset, offset + take);
      this.filled += take;
      offset += take;
      this.emitCompleteChunks(onChunk);
    }
  }

  /** Hands on what is left as the last chunk. */
  end(onChunk: ChunkHandler): void {
    this.emitCompleteChunks(onChunk);
    if (this.filled > 0) onChunk(this.buffer.subarray(0, this.filled));
    this.filled = 0;
  }

  private emitCompleteChunks(onChunk: ChunkHandler): void {
    for (;;) {
      const cut = this.findCut();
      if (cut === undefined) return;
      onChunk(this.buffer.subarray(0, cut));
      this.buffer.copyWithin(0, cut, this.filled);
      this.filled -= cut;
      this.scanned = 0;
      this.hash = 0;
    }
  }

  /** A byte offset (a multiple of 4) to cut at, or undefined until more data arrives. */
  private findCut(): number | undefined {
    const { minSize, maxSize } = this.limits;
    const words = this.words;
    const mask = this.mask;
    let hash = this.hash;
    let index = Math.max(this.scanned, minSize / WORD);
    const end = Math.floor(Math.min(this.filled, maxSize) / WORD);
    for (; index < end; index++) {
      const word = words[index] ?? 0;
      hash = ((hash << 1) + Math.imul(word ^ (word >>> 15), 0x2c1b3c6d)) | 0;
      if ((hash & mask) === 0) return (index + 1) * WORD;
    }
    this.hash = hash;
    this.scanned = index;
    return this.filled >= maxSize ? maxSize : undefined;
  }
}

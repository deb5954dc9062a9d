import { Transform, type TransformCallback } from 'node:stream';

/**
 * Splits a byte stream at content-defined boundaries (gear rolling hash), so an insertion or a
 * changed block upsets only the chunks around it and every other chunk keeps its exact bytes.
 */
export interface ChunkerLimits {
  readonly minSize: number;
  readonly averageBits: number;
  readonly maxSize: number;
}

export const DEFAULT_CHUNK_LIMITS: ChunkerLimits = {
  minSize: 256 * 1024,
  averageBits: 20,
  maxSize: 4 * 1024 * 1024,
};

const GEAR = buildGearTable(0x9e3779b9);

/** A fixed pseudo-random table: chunk boundaries must not change between runs or machines. */
function buildGearTable(seed: number): Uint32Array {
  const table = new Uint32Array(256);
  let state = seed >>> 0;
  for (let i = 0; i < 256; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    table[i] = state;
  }
  return table;
}

export class ContentChunker extends Transform {
  private readonly mask: number;
  private buffer: Buffer;
  private filled = 0;
  private scanned = 0;
  private hash = 0;

  constructor(private readonly limits: ChunkerLimits = DEFAULT_CHUNK_LIMITS) {
    super({ readableObjectMode: true });
    this.mask = (1 << limits.averageBits) - 1;
    this.buffer = Buffer.allocUnsafe(limits.maxSize * 2);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(data.length - offset, this.buffer.length - this.filled);
      data.copy(this.buffer, this.filled, offset, offset + take);
      this.filled += take;
      offset += take;
      this.emitCompleteChunks();
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.emitCompleteChunks();
    if (this.filled > 0) this.push(Buffer.from(this.buffer.subarray(0, this.filled)));
    done();
  }

  private emitCompleteChunks(): void {
    for (;;) {
      const cut = this.findCut();
      if (cut === undefined) return;
      this.push(Buffer.from(this.buffer.subarray(0, cut)));
      this.buffer.copyWithin(0, cut, this.filled);
      this.filled -= cut;
      this.scanned = 0;
      this.hash = 0;
    }
  }

  private findCut(): number | undefined {
    const { minSize, maxSize } = this.limits;
    const buffer = this.buffer;
    const mask = this.mask;
    let hash = this.hash;
    let index = Math.max(this.scanned, minSize);
    const end = Math.min(this.filled, maxSize);
    for (; index < end; index++) {
      hash = ((hash << 1) + (GEAR[buffer[index] ?? 0] ?? 0)) | 0;
      if ((hash & mask) === 0) return index + 1;
    }
    this.hash = hash;
    this.scanned = index;
    return this.filled >= maxSize ? maxSize : undefined;
  }
}

/**
 * Seconds a bake spent in each stage, summed over partitions and hosts. Stages of one partition's
 * clone run at once (partclone, its checker, the packer), so they add up to more than the wall
 * time: each figure says how long that stage kept something busy, which shows the bottleneck.
 */
export type BakeStage =
  'restore' | 'copy' | 'edits' | 'clone' | 'verify' | 'chunk+hash' | 'compress' | 'write' | 'assemble';

export class StageTimes {
  private readonly seconds = new Map<BakeStage, number>();
  private packedChunks = 0;
  private compressedChunks = 0;

  /** A packed image's chunks, and how many of them had to be compressed (the rest were reused). */
  countChunks(packed: number, compressed: number): void {
    this.packedChunks += packed;
    this.compressedChunks += compressed;
  }

  get chunks(): { readonly packed: number; readonly compressed: number } {
    return { packed: this.packedChunks, compressed: this.compressedChunks };
  }

  add(stage: BakeStage, seconds: number): void {
    this.seconds.set(stage, (this.seconds.get(stage) ?? 0) + seconds);
  }

  /** Times `work` as `stage`, also when it fails. */
  async time<T>(stage: BakeStage, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.add(stage, (performance.now() - started) / 1000);
    }
  }

  /** Rounded to 10 ms, in the order the stages come in a bake. */
  toJSON(): Partial<Record<BakeStage, number>> {
    const order: readonly BakeStage[] = [
      'restore',
      'copy',
      'edits',
      'clone',
      'verify',
      'chunk+hash',
      'compress',
      'write',
      'assemble',
    ];
    return Object.fromEntries(
      order.flatMap((stage) => {
        const value = this.seconds.get(stage);
        return value === undefined ? [] : [[stage, Math.round(value * 100) / 100]];
      }),
    );
  }
}

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { ToolError, UserError } from '../errors.ts';
import { command, formatPipeline } from '../exec/command.ts';
import { interruptionSignal, runPipeline, spawnStreaming } from '../exec/run-command.ts';
import { concatenatedPieces } from '../clonezilla/partition-pieces.ts';
import type { PartitionImage } from '../clonezilla/read-image.ts';
import { isOutOfSpace } from './out-of-space.ts';
import { decompressCommand } from '../tools/compression.ts';
import { isReadableHere, parsePartcloneHeader, restoreToFileCommand } from '../tools/partclone.ts';
import type { KeptPartitions } from './kept-partitions.ts';
import { StageTimes } from '../values/stage-times.ts';

/** Bad input that every host would meet: the bake stops and says it once. */
export class DamagedCleanImage extends UserError {}

/**
 * Scratch space for one bake, inside the output directory so that finished partition images can
 * be hard-linked into place. Removed in `finally`, also after Ctrl-C.
 */
export class Workspace {
  private readonly restored = new Map<string, Promise<string>>();

  private constructor(
    readonly dir: string,
    /** Where the bake's stages add their seconds (the bench's breakdown). */
    readonly times: StageTimes,
    /** Where restored clean partitions outlive the bake; without it they go with the scratch space. */
    private readonly kept?: KeptPartitions,
  ) {}

  static async create(
    outDir: string,
    options: { readonly times?: StageTimes; readonly kept?: KeptPartitions } = {},
  ): Promise<Workspace> {
    await mkdir(outDir, { recursive: true });
    const dir = await mkdtemp(path.join(outDir, `.bake-work-${process.pid}-`));
    return new Workspace(dir, options.times ?? new StageTimes(), options.kept);
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * The partition restored to a sparse file, once per bake however many hosts need it, and kept for
   * the next bakes when there is a place for that. Nobody may write to the file returned.
   */
  restoredPartition(
    imageDir: string,
    partition: PartitionImage,
    fileDigests: ReadonlyMap<string, string>,
  ): Promise<string> {
    let pending = this.restored.get(partition.device);
    if (!pending) {
      const restore = (output: string) =>
        this.times.time('restore', () => this.restore(imageDir, partition, output));
      const { kept } = this;
      const scratch = this.path(`clean-${partition.device}.${partition.fs}.img`);
      pending = kept
        ? kept.obtain(kept.fileFor(partition, fileDigests), restore)
        : restore(scratch).then(() => scratch);
      this.restored.set(partition.device, pending);
    }
    return pending;
  }

  private async restore(imageDir: string, partition: PartitionImage, output: string): Promise<void> {
    await assertPartcloneReadable(imageDir, partition);
    try {
      await runPipeline(
        [
          decompressCommand(partition.codec),
          restoreToFileCommand(partition.fs, output, this.path(`restore-${partition.device}.log`)),
        ],
        { from: concatenatedPieces(imageDir, partition) },
      );
    } catch (error) {
      if (!(error instanceof ToolError) || interruptionSignal() || isOutOfSpace(error)) throw error;
      const files = partition.files.map((file) => path.join(imageDir, file));
      const check = formatPipeline([
        command('cat', files),
        decompressCommand(partition.codec),
        command('partclone.chkimg', ['-s', '-', '-L', '/dev/null']),
      ]);
      // The tool's own command line names this bake's scratch files, gone by the time it is read.
      const said = error.outputTail
        .split('\n')
        .filter((line) => !line.includes(this.dir) && !(this.kept && line.includes(this.kept.dir)))
        .slice(-3)
        .join(' / ');
      throw new DamagedCleanImage(`${files.join(', ')}: damaged partition image in the clean image.`, [
        `${error.message.split(' in ')[0] ?? error.message}${said ? `: ${said}` : ''}`,
        `Check it with: ${check}`,
        'Copy or save the clean image again (ocs-sr savedisk, or npm run import).',
      ]);
    }
  }

  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Reads the image header first: a clear message beats partclone failing halfway. */
async function assertPartcloneReadable(imageDir: string, partition: PartitionImage): Promise<void> {
  const decompress = spawnStreaming(decompressCommand(partition.codec), { stdin: 'pipe' });
  const source = concatenatedPieces(imageDir, partition);
  decompress.stdin.on('error', () => undefined);
  source.pipe(decompress.stdin);
  let head = Buffer.alloc(0);
  for await (const data of decompress.stdout as AsyncIterable<Buffer>) {
    head = Buffer.concat([head, data]);
    if (head.length >= 110) break;
  }
  decompress.kill();
  source.destroy();
  await decompress.done.catch(() => undefined);
  const label = path.join(imageDir, partition.files[0] ?? partition.device);
  const header = parsePartcloneHeader(head);
  if (!header) {
    throw new DamagedCleanImage(
      `${label} is not a partclone image (or is corrupted): it does not start with the partclone header.`,
      ['Save the clean image again with ocs-sr.'],
    );
  }
  if (!isReadableHere(header)) {
    throw new DamagedCleanImage(
      `${label} uses partclone image version ${header.version} with checksum mode 0x${header.checksumMode.toString(16)}, which this partclone cannot read.`,
      [
        'Newer Clonezilla releases can save XXH128-checksummed images; save the clean image with Clonezilla from Debian 12 (partclone 0.3.23) or with -a 1 (CRC32).',
      ],
    );
  }
}

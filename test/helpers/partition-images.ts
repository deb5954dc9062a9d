import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { command, type Command } from '../../src/exec/command.ts';
import { runPipeline } from '../../src/exec/run-command.ts';

export interface PartitionImage {
  /** e.g. sda1, loop3p2 */
  readonly partition: string;
  /** partclone's suffix: vfat, ext4, ... */
  readonly fsType: string;
  readonly codec: string;
  /** File names in the image dir, in order: one, or the .aa, .ab, ... slices of one stream. */
  readonly files: readonly string[];
}

const IMAGE_FILE = /^(.+)\.([\w]+)-ptcl-img\.(gz|zst|xz|bz2|lz4|lzo|uncomp)(?:\.([a-z]{2,}))?$/;

/** The partition images an image dir holds, for the partitions its `parts` file names. */
export async function listPartitionImages(imageDir: string): Promise<PartitionImage[]> {
  const parts = (await readFile(path.join(imageDir, 'parts'), 'utf8')).trim().split(/\s+/);
  const names = (await readdir(imageDir)).sort();
  return parts.map((partition) => {
    const matches = names
      .map((name) => ({ name, match: IMAGE_FILE.exec(name) }))
      .filter((entry) => entry.match?.[1] === partition);
    const [, , fsType, codec] = matches[0]?.match ?? [];
    if (!fsType || !codec) throw new Error(`${imageDir}: no partclone image for ${partition}`);
    return { partition, fsType, codec, files: matches.map((entry) => entry.name) };
  });
}

const DECOMPRESS: Readonly<Record<string, Command>> = {
  gz: command('pigz', ['-d', '-c']),
  zst: command('zstd', ['-d', '-c', '-q']),
  xz: command('xz', ['-d', '-c']),
  bz2: command('bzip2', ['-d', '-c']),
  lz4: command('lz4', ['-d', '-c']),
  uncomp: command('cat', []),
};

/** `partclone.chkimg` over one partition image (what ocs-sr runs after a save without -scs). */
export async function checkPartitionImage(
  imageDir: string,
  image: PartitionImage,
  logDir: string,
): Promise<void> {
  const decompress = DECOMPRESS[image.codec];
  if (!decompress) throw new Error(`no decompressor for .${image.codec}`);
  await runPipeline([
    command(
      'cat',
      image.files.map((file) => path.join(imageDir, file)),
    ),
    decompress,
    command('partclone.chkimg', ['-s', '-', '-L', path.join(logDir, `chkimg-${image.partition}.log`)]),
  ]);
}

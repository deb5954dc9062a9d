import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { type Codec, parsePartitionImageName } from './partition-image-name.ts';
import { type PartitionEntry, type PartitionTable, parseSfdiskDump } from './partition-table.ts';

export interface PartitionImage {
  readonly device: string;
  readonly fs: string;
  readonly codec: Codec;
  /** One file, or the `.aa`, `.ab`… pieces of one compressed stream in name order. */
  readonly files: readonly string[];
  readonly entry: PartitionEntry;
}

export interface ClonezillaImage {
  readonly dir: string;
  readonly name: string;
  readonly disk: string;
  readonly table: PartitionTable;
  readonly partitions: readonly PartitionImage[];
  /** Every regular file of the directory, sorted. */
  readonly files: readonly string[];
}

export const SUPPORTED_CODECS: readonly Codec[] = ['gz', 'zst'];

async function readText(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

export async function readClonezillaImage(dir: string): Promise<ClonezillaImage> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UserError(`No Clonezilla image at ${dir}.`, [
      'Point --clean (or image.clean in the lab file) at a directory saved by `ocs-sr savedisk`,',
      'or make one from a disk image with `npm run import -- DISK.img --name pi-img`.',
    ]);
  }
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  const diskText = await readText(dir, 'disk');
  if (diskText === undefined) {
    throw new UserError(`${dir} is not a Clonezilla disk image: it has no \`disk\` file.`, [
      'Save the whole disk (`ocs-sr … savedisk NAME sda`), not single partitions (saveparts).',
    ]);
  }
  const disks = diskText.trim().split(/\s+/).filter(Boolean);
  const disk = disks[0];
  if (!disk || disks.length !== 1) {
    throw new UserError(
      `${dir}/disk names ${disks.length} disks (${diskText.trim()}); a bake needs an image of exactly one disk.`,
    );
  }
  const tableText = await readText(dir, `${disk}-pt.sf`);
  if (tableText === undefined) throw new UserError(`${dir} has no partition table dump ${disk}-pt.sf.`);
  const table = parseSfdiskDump(tableText);
  return {
    dir,
    name: path.basename(dir),
    disk,
    table,
    partitions: collectPartitionImages(dir, files, table),
    files,
  };
}

function collectPartitionImages(
  dir: string,
  files: readonly string[],
  table: PartitionTable,
): PartitionImage[] {
  const byDevice = new Map<string, { fs: string; codec: Codec; files: string[] }>();
  for (const file of files) {
    const name = parsePartitionImageName(file);
    if (!name) continue;
    const group = byDevice.get(name.device) ?? { fs: name.fs, codec: name.codec, files: [] };
    group.files.push(file);
    byDevice.set(name.device, group);
  }
  const images: PartitionImage[] = [];
  for (const [device, group] of byDevice) {
    const entry = table.entries.find((e) => e.device === device);
    if (!entry)
      throw new UserError(`${dir}: ${group.files[0] ?? device} has no entry in the partition table dump.`);
    if (!SUPPORTED_CODECS.includes(group.codec)) {
      throw new UserError(
        `${dir}: ${device} is compressed with ${group.codec}; only gzip (-z1p) and zstd (-z9p) images can be baked.`,
        ['Save the clean image again with `ocs-sr -z1p …` or `-z9p …`.'],
      );
    }
    images.push({ device, fs: group.fs, codec: group.codec, files: group.files.sort(), entry });
  }
  return images.sort((a, b) => a.entry.number - b.entry.number);
}

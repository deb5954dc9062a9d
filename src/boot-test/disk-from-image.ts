import { truncate, writeFile } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { runCommand, runPipeline } from '../exec/run-command.ts';
import { concatenatedPieces } from '../bake/workspace.ts';
import type { PartitionEntry, PartitionTable } from '../clonezilla/partition-table.ts';
import { readClonezillaImage, type ClonezillaImage } from '../clonezilla/read-image.ts';
import { decompressCommand } from '../tools/compression.ts';
import { partcloneProgram } from '../tools/partclone.ts';

export interface RestoredDisk {
  readonly path: string;
  readonly image: ClonezillaImage;
  /** Byte offset of the FAT partition that holds cmdline.txt and config.txt. */
  readonly bootOffset: number;
}

const MIB = 1024 * 1024;
const FAT_TYPES = new Set(['b', 'c', 'e', '6', 'ef']);

/**
 * Restores a Clonezilla image directory into a new sparse raw disk file, without root: the
 * partition table from its sfdisk dump, each partition streamed through partclone into the file at
 * its own offset. The image directory is only read.
 */
export async function restoreDiskFile(imageDir: string, output: string): Promise<RestoredDisk> {
  const image = await readClonezillaImage(imageDir);
  const { table } = image;
  const sectorSize = table.sectorSize;
  const end = Math.max(...table.entries.map((e) => (e.startSector + e.sizeSectors) * sectorSize));
  await writeFile(output, '');
  await truncate(output, Math.ceil(end / MIB) * MIB + MIB);
  await runCommand(command('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', output]), {
    input: renderSfdiskInput(table),
  });
  for (const partition of image.partitions) {
    const offset = partition.entry.startSector * sectorSize;
    await runPipeline(
      [
        decompressCommand(partition.codec),
        command(partcloneProgram(partition.fs), [
          '-f',
          '0',
          '-B',
          '-r',
          '-s',
          '-',
          '-O',
          output,
          `--offset=${offset}`,
          '-L',
          `${output}.${partition.device}.log`,
        ]),
      ],
      { from: concatenatedPieces(imageDir, partition) },
    );
  }
  const boot = image.partitions.find((p) => p.fs === 'vfat' || p.fs === 'fat32' || p.fs === 'fat16')?.entry;
  const bootEntry = boot ?? table.entries.find((e) => FAT_TYPES.has(e.type.toLowerCase()));
  if (!bootEntry) {
    throw new UserError(`${imageDir}: no FAT boot partition, so there is no cmdline.txt to boot from.`);
  }
  return { path: output, image, bootOffset: bootEntry.startSector * sectorSize };
}

/** The saved table, written back as sfdisk input (the dump names the source disk's devices). */
export function renderSfdiskInput(table: PartitionTable): string {
  const entry = (e: PartitionEntry): string =>
    `start=${e.startSector}, size=${e.sizeSectors}, type=${e.type}`;
  return [
    `label: ${table.label}`,
    ...(table.labelId ? [`label-id: ${table.labelId}`] : []),
    'unit: sectors',
    '',
    ...table.entries.map(entry),
    '',
  ].join('\n');
}

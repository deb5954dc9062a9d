import { truncate, writeFile } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { runCommand, runPipeline } from '../exec/run-command.ts';
import { concatenatedPieces } from '../clonezilla/partition-pieces.ts';
import { parseSfdiskDump, type PartitionEntry, type PartitionTable } from '../clonezilla/partition-table.ts';
import { dumpPartitionTable } from '../tools/disk-image.ts';
import { readClonezillaImage } from '../clonezilla/read-image.ts';
import { decompressCommand } from '../tools/compression.ts';
import { partcloneProgram } from '../tools/partclone.ts';

export interface RestoredDisk {
  readonly path: string;
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
  return { path: output, bootOffset: bootOffset(table, imageDir) };
}

/**
 * A raw disk written by something else (a real ocs-sr restore, a dd of a USB disk), copied sparse
 * so that booting it never changes the original; described by its own partition table.
 */
export async function copyRawDisk(source: string, diskFile: string): Promise<RestoredDisk> {
  const table = await dumpPartitionTable(source).catch(() => {
    throw new UserError(`${source} is not a disk with a partition table sfdisk can read.`, [
      'Give a raw disk image (a dd of the whole disk, or a restored disk), not a partition or an image directory.',
    ]);
  });
  await runCommand(command('cp', ['--sparse=always', source, diskFile]));
  return {
    path: diskFile,
    bootOffset: bootOffset(parseSfdiskDump(table), source),
  };
}

function bootOffset(table: PartitionTable, source: string): number {
  const boot = table.entries.find((e) => FAT_TYPES.has(e.type.toLowerCase()));
  if (!boot)
    throw new UserError(`${source}: no FAT boot partition, so there is no cmdline.txt to boot from.`);
  return boot.startSector * table.sectorSize;
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

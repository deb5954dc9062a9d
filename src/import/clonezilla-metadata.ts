import { createHash } from 'node:crypto';
import { type PartitionEntry, partitionDeviceName } from '../clonezilla/partition-table.ts';

/** Pure renderers for the metadata files `ocs-sr savedisk` writes, for a disk called `disk`. */

export interface ProbedPartition {
  readonly entry: PartitionEntry;
  /** The name on the target, e.g. `sda1`. */
  readonly device: string;
  readonly fs: string;
  readonly label: string | undefined;
  readonly uuid: string | undefined;
  readonly partuuid: string | undefined;
}

export function renderSfdiskDump(
  dump: string,
  sourcePath: string,
  disk: string,
  partitions: readonly ProbedPartition[],
): string {
  const renamed = new Map(
    partitions.map((p) => [partitionDeviceName(sourcePath, p.entry.number), `/dev/${p.device}`]),
  );
  return dump
    .split('\n')
    .map((line) => {
      if (line.startsWith('device:')) return `device: /dev/${disk}`;
      const name = /^(\S+)\s*:/.exec(line)?.[1];
      const target = name ? renamed.get(name) : undefined;
      return name && target ? line.replace(name, target) : line;
    })
    .join('\n');
}

/** parted's print with the image file's path replaced by the device: restore needs `Disk /dev/<disk>: <N>s`. */
export function renderPartedPrint(print: string, sourcePath: string, disk: string): string {
  return print
    .split('\n')
    .map((line) =>
      line.startsWith('Disk ') && line.includes(sourcePath) ? line.replace(sourcePath, `/dev/${disk}`) : line,
    )
    .map((line) => (line.startsWith('Model:') ? 'Model: Imported disk image (file)' : line))
    .join('\n');
}

export function renderChs(totalSectors: number): string {
  const heads = 255;
  const sectors = 63;
  return `cylinders=${Math.floor(totalSectors / (heads * sectors))}\nheads=${heads}\nsectors=${sectors}\n`;
}

export function renderBlkidList(partitions: readonly ProbedPartition[]): string {
  return partitions
    .map((p) => {
      const fields = [
        p.label && `LABEL="${p.label}"`,
        p.uuid && `UUID="${p.uuid}"`,
        `TYPE="${p.fs}"`,
        p.partuuid && `PARTUUID="${p.partuuid}"`,
      ].filter(Boolean);
      return `/dev/${p.device}: ${fields.join(' ')}\n`;
    })
    .join('');
}

export function renderDevFsList(partitions: readonly ProbedPartition[], sectorSize: number): string {
  const header = '# <Device name>   <File system>   <Size>\n';
  return (
    header +
    partitions
      .map((p) => `/dev/${p.device} ${p.fs} ${Math.round((p.entry.sizeSectors * sectorSize) / 1048576)}M\n`)
      .join('')
  );
}

export function renderImageNote(source: string): string {
  return `This image was made by \`npm run import\` (pi-lab) from ${source}.\nIt has the layout of an image saved by ocs-sr savedisk with -q2 -j2 -z1p -i 0.\n`;
}

/** Clonezilla identifies an image by the sha512 of its clonezilla-img file. */
export function renderImageId(note: string): string {
  const id = createHash('sha512').update(note).digest('hex');
  return `# This checksum is only for identifying the image. Created by the command: sha512sum clonezilla-img\nIMG_ID=${id}\n`;
}

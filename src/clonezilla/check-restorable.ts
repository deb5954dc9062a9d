import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { type Codec, parsePartitionImageName, pieceSuffix } from './partition-image-name.ts';
import type { ClonezillaImage } from './read-image.ts';

/** The first bytes of each compressed stream Clonezilla writes (`uncomp`: the partclone header). */
const MAGIC: Partial<Record<Codec, Buffer>> = {
  gz: Buffer.from([0x1f, 0x8b]),
  zst: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  xz: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  bz2: Buffer.from('BZh'),
  uncomp: Buffer.from('partclone-image'),
};

const DISK_LINE = (disk: string): RegExp => new RegExp(`^Disk /dev/${disk}: (\\d+)s$`, 'm');

/**
 * Reads the image as `ocs-sr restoredisk` does and lists what would make it fail or restore
 * something else: `parts` and the partition images it names, the table dumps, the MBR (whose disk
 * signature wins over the dump's on restore), the gap after it, and each image's compression.
 */
export async function restoreProblems(image: ClonezillaImage): Promise<string[]> {
  const problems: string[] = [];
  const { dir, disk, table } = image;
  const has = (file: string): boolean => image.files.includes(file);
  const size = async (file: string): Promise<number> => (await stat(path.join(dir, file))).size;

  const partsText = has('parts') ? await readFile(path.join(dir, 'parts'), 'utf8') : undefined;
  const parts = partsText?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (partsText === undefined)
    problems.push('`parts` is missing: ocs-sr reads from it which partitions to restore.');
  else if (parts.length === 0) problems.push('`parts` lists no partition.');

  if (table.entries.length === 0) problems.push(`\`${disk}-pt.sf\` has no partition entries.`);
  for (const device of parts) {
    if (!table.entries.some((entry) => entry.device === device))
      problems.push(`\`parts\` lists ${device}, which \`${disk}-pt.sf\` has no entry for.`);
    if (!image.partitions.some((partition) => partition.device === device))
      problems.push(
        `\`parts\` lists ${device}, but there is no partition image ${device}.<fs>-ptcl-img.<codec>.`,
      );
  }
  for (const partition of image.partitions) {
    const first = partition.files[0] ?? partition.device;
    if (partsText !== undefined && !parts.includes(partition.device))
      problems.push(`${first} is not listed in \`parts\`: it would not be restored.`);
    problems.push(...(await partitionImageProblems(dir, partition.files)));
  }

  const parted = has(`${disk}-pt.parted`)
    ? await readFile(path.join(dir, `${disk}-pt.parted`), 'utf8')
    : undefined;
  const diskSectors = parted === undefined ? undefined : Number(DISK_LINE(disk).exec(parted)?.[1] ?? NaN);
  const lastEnd = Math.max(0, ...table.entries.map((entry) => entry.startSector + entry.sizeSectors));
  if (parted === undefined)
    problems.push(`\`${disk}-pt.parted\` is missing: ocs-sr reads the disk size from it.`);
  else if (diskSectors === undefined || Number.isNaN(diskSectors))
    problems.push(`\`${disk}-pt.parted\` has no line \`Disk /dev/${disk}: <N>s\`.`);
  else if (diskSectors < lastEnd)
    problems.push(
      `\`${disk}-pt.parted\` gives a disk of ${diskSectors} sectors, but \`${disk}-pt.sf\` has a partition ending at sector ${lastEnd}.`,
    );

  const mbr = `${disk}-mbr`;
  if (!has(mbr)) problems.push(`\`${mbr}\` is missing: ocs-sr writes it back as the disk's first sector.`);
  else if ((await size(mbr)) !== 512)
    problems.push(`\`${mbr}\` is ${await size(mbr)} bytes; it must be one 512-byte sector.`);
  else if (table.label === 'dos' && table.labelId) {
    const signature = (await readFile(path.join(dir, mbr))).readUInt32LE(440);
    if (signature !== Number.parseInt(table.labelId.replace(/^0x/i, ''), 16))
      problems.push(
        `\`${mbr}\` holds disk identifier 0x${signature.toString(16).padStart(8, '0')} but \`${disk}-pt.sf\` says ${table.labelId}: the restored disk would not match the PARTUUIDs in cmdline.txt and fstab.`,
      );
  }

  const hidden = `${disk}-hidden-data-after-mbr`;
  const firstStart = Math.min(...table.entries.map((entry) => entry.startSector));
  if (
    has(hidden) &&
    Number.isFinite(firstStart) &&
    (await size(hidden)) > (firstStart - 1) * table.sectorSize
  )
    problems.push(
      `\`${hidden}\` is ${await size(hidden)} bytes, more than the ${firstStart - 1} sectors before the first partition: restoring it would overwrite that partition.`,
    );
  return problems;
}

/** Each piece present (aa, ab, … with no gap), none empty, the stream starting as its codec does. */
async function partitionImageProblems(dir: string, files: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const names = files.map((file) => ({ file, name: parsePartitionImageName(file) }));
  const kinds = new Set(names.map(({ name }) => `${name?.fs ?? ''}.${name?.codec ?? ''}`));
  if (kinds.size > 1) {
    problems.push(
      `${files.join(', ')}: more than one image of the same partition (${[...kinds].join(', ')}).`,
    );
    return problems;
  }
  const pieces = names.map(({ name }) => name?.piece);
  if (pieces.length > 1 || pieces[0] !== undefined) {
    pieces.forEach((piece, index) => {
      if (piece !== pieceSuffix(index))
        problems.push(
          `${files[index] ?? ''}: expected piece .${pieceSuffix(index)} here; a piece is missing or extra.`,
        );
    });
  }
  const first = names[0];
  if (!first?.name) return problems;
  for (const file of files)
    if ((await stat(path.join(dir, file))).size === 0) problems.push(`${file} is empty.`);
  const magic = MAGIC[first.name.codec];
  if (magic && (await stat(path.join(dir, first.file))).size > 0) {
    const head = await readHead(path.join(dir, first.file), magic.length);
    if (!head.equals(magic))
      problems.push(`${first.file} is not ${first.name.codec}-compressed, as its name says.`);
  }
  return problems;
}

async function readHead(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Refuses an image that `ocs-sr restoredisk` could not restore as it is, naming every problem. */
export async function assertRestorable(image: ClonezillaImage, fix: string): Promise<void> {
  const problems = await restoreProblems(image);
  if (problems.length === 0) return;
  throw new UserError(
    `${image.dir} is not a complete Clonezilla image: \`ocs-sr restoredisk\` would fail on it or restore something else (${problems.length === 1 ? '1 problem' : `${problems.length} problems`}):`,
    [...problems, fix],
  );
}

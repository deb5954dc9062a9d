import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError, UserError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { runCommand } from '../exec/run-command.ts';
import { restoreProblems } from '../clonezilla/check-restorable.ts';
import { partitionImageBaseName } from '../clonezilla/partition-image-name.ts';
import { readClonezillaImage } from '../clonezilla/read-image.ts';
import { parseSfdiskDump, partitionDeviceName } from '../clonezilla/partition-table.ts';
import { cloneAndPack } from '../pack/clone-and-pack.ts';
import { MemberStore } from '../pack/member-store.ts';
import { dumpPartitionTable, extractRange, printPartedTable, probeFilesystem } from '../tools/disk-image.ts';
import { IMPORT_TOOLS, verifyHostTools } from '../tools/host-tools.ts';
import {
  type ProbedPartition,
  renderBlkidList,
  renderChs,
  renderDevFsList,
  renderImageId,
  renderImageNote,
  renderPartedPrint,
  renderSfdiskDump,
} from './clonezilla-metadata.ts';

export interface ImportOptions {
  readonly diskFile: string;
  readonly name: string;
  readonly outDir: string;
  /** The device name the image is saved as; a Pi's USB disk is `sda`. */
  readonly disk?: string;
  /** One line per stage, and the bytes cloned every few seconds. */
  readonly onProgress?: (line: string) => void;
}

const PROGRESS_INTERVAL_MS = 5000;
const MIB = 1048576;

const PARTCLONE_FS: Readonly<Record<string, string>> = {
  vfat: 'vfat',
  ext4: 'ext4',
  ext3: 'ext3',
  ext2: 'ext2',
};

/**
 * Turns a raw disk image (a `dd` of a USB disk, or an official Raspberry Pi OS .img/.img.xz) into a
 * Clonezilla image directory, without root: partitions are cut out with dd and cloned by partclone.
 */
export async function importDisk(options: ImportOptions): Promise<string> {
  await verifyHostTools(IMPORT_TOOLS);
  await assertDiskFile(options.diskFile);
  const disk = options.disk ?? 'sda';
  const target = path.join(options.outDir, options.name);
  if (
    await stat(target).then(
      () => true,
      () => false,
    )
  ) {
    throw new UserError(`${target} already exists.`, [
      'Choose another --name, or remove the old image first.',
    ]);
  }
  await mkdir(options.outDir, { recursive: true });
  const staging = path.join(options.outDir, `.import-${options.name}.tmp-${process.pid}`);
  const scratch = `${staging}.scratch`;
  await mkdir(staging, { recursive: true });
  await mkdir(scratch, { recursive: true });
  try {
    const say = options.onProgress ?? (() => undefined);
    const diskFile = await uncompressedDisk(options.diskFile, scratch, say);
    await writeImageDirectory({ diskFile, source: options.diskFile, disk, dir: staging, scratch, say });
    const problems = await restoreProblems(await readClonezillaImage(staging));
    if (problems.length > 0)
      throw new Error(
        `the imported image would not restore with ocs-sr, so it was not kept: ${problems.join(' ')}`,
      );
    await rename(staging, target);
    return target;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

async function assertDiskFile(diskFile: string): Promise<void> {
  const found = await stat(diskFile).catch(() => undefined);
  if (!found) throw new UserError(`No disk image at ${diskFile}: the file does not exist.`);
  if (!found.isFile()) throw new UserError(`${diskFile} is not a file: give a disk image (.img or .img.xz).`);
}

/** What xz says about a damaged or truncated file, and what to do about it. */
const XZ_DAMAGE =
  /Unexpected end of input|Compressed data is corrupt|File format not recognized|not in the .xz format|Unsupported options/i;

async function uncompressedDisk(
  diskFile: string,
  scratch: string,
  say: (line: string) => void,
): Promise<string> {
  if (!diskFile.endsWith('.xz')) return diskFile;
  say(`decompressing ${path.basename(diskFile)}…`);
  const output = path.join(scratch, path.basename(diskFile, '.xz'));
  await runCommand(
    command('bash', [
      '-o',
      'pipefail',
      '-c',
      'xz -dc -- "$1" | dd of="$2" bs=1M conv=sparse status=none',
      'import',
      diskFile,
      output,
    ]),
  ).catch((error: unknown) => {
    const said = error instanceof ToolError ? XZ_DAMAGE.exec(error.outputTail)?.[0] : undefined;
    if (said)
      throw new UserError(
        `${diskFile} is damaged or incomplete (xz: ${said.toLowerCase()}): download or copy it again; \`xz -t\` checks a file.`,
      );
    throw error;
  });
  return output;
}

interface ImageDirectoryJob {
  readonly diskFile: string;
  readonly source: string;
  readonly disk: string;
  readonly dir: string;
  readonly scratch: string;
  readonly say: (line: string) => void;
}

async function writeImageDirectory({
  diskFile,
  source,
  disk,
  dir,
  scratch,
  say,
}: ImageDirectoryJob): Promise<void> {
  const dump = await dumpPartitionTable(diskFile).catch(() => {
    throw new UserError(`${source} has no partition table that sfdisk can read; is it a whole-disk image?`);
  });
  const table = parseSfdiskDump(dump);
  const diskId = table.labelId?.replace(/^0x/i, '').toLowerCase();
  const partitions: ProbedPartition[] = [];
  for (const entry of table.entries) {
    const probe = await probeFilesystem(
      diskFile,
      entry.startSector * table.sectorSize,
      entry.sizeSectors * table.sectorSize,
    );
    const fs = PARTCLONE_FS[probe.TYPE ?? ''];
    if (!fs)
      throw new UserError(
        `${source}: partition ${entry.number} holds ${probe.TYPE ?? 'no known filesystem'}; import handles FAT and ext2/3/4.`,
      );
    partitions.push({
      entry,
      device: partitionDeviceName(disk, entry.number),
      fs,
      label: probe.LABEL,
      uuid: probe.UUID,
      partuuid:
        table.label === 'dos' && diskId ? `${diskId}-${String(entry.number).padStart(2, '0')}` : undefined,
    });
  }
  if (partitions.length === 0) throw new UserError(`${source} has an empty partition table.`);
  const sourcePath = dump.match(/^device:\s*(.*)$/m)?.[1]?.trim() ?? diskFile;
  const totalSectors = Math.floor((await stat(diskFile)).size / table.sectorSize);
  const firstStart = Math.min(...partitions.map((p) => p.entry.startSector));
  await writeFile(path.join(dir, 'disk'), `${disk}\n`);
  await writeFile(path.join(dir, 'parts'), `${partitions.map((p) => p.device).join(' ')}\n`);
  await writeFile(path.join(dir, `${disk}-pt.sf`), renderSfdiskDump(dump, sourcePath, disk, partitions));
  await writeFile(
    path.join(dir, `${disk}-pt.parted`),
    renderPartedPrint(await printPartedTable(diskFile, 's'), diskFile, disk),
  );
  await writeFile(
    path.join(dir, `${disk}-pt.parted.compact`),
    renderPartedPrint(await printPartedTable(diskFile, 'compact'), diskFile, disk),
  );
  await writeFile(path.join(dir, `${disk}-chs.sf`), renderChs(totalSectors));
  await writeFile(path.join(dir, `${disk}-mbr`), await readRange(diskFile, 0, table.sectorSize));
  await extractRange(
    diskFile,
    table.sectorSize,
    (firstStart - 1) * table.sectorSize,
    path.join(dir, `${disk}-hidden-data-after-mbr`),
  );
  await writeFile(path.join(dir, 'blkid.list'), renderBlkidList(partitions));
  await writeFile(path.join(dir, 'dev-fs.list'), renderDevFsList(partitions, table.sectorSize));
  const note = renderImageNote(path.basename(source));
  await writeFile(path.join(dir, 'clonezilla-img'), note);
  await writeFile(path.join(dir, 'Info-img-id.txt'), renderImageId(note));
  const store = await MemberStore.create(path.join(scratch, 'members.bin'));
  try {
    for (const partition of partitions) {
      const extracted = path.join(scratch, `${partition.device}.img`);
      await extractRange(
        diskFile,
        partition.entry.startSector * table.sectorSize,
        partition.entry.sizeSectors * table.sectorSize,
        extracted,
      );
      const mib = Math.round((partition.entry.sizeSectors * table.sectorSize) / MIB);
      say(`${partition.device}: cloning ${partition.fs} (${mib} MiB partition)…`);
      let lastSaid = performance.now();
      await cloneAndPack({
        onBytes: (done) => {
          if (performance.now() - lastSaid < PROGRESS_INTERVAL_MS) return;
          lastSaid = performance.now();
          say(`${partition.device}: ${Math.round(done / MIB)} MiB cloned`);
        },
        fs: partition.fs,
        sourceFile: extracted,
        output: path.join(dir, partitionImageBaseName(partition.device, partition.fs, 'gz')),
        codec: 'gz',
        store,
        workDir: scratch,
      });
      await rm(extracted);
      say(`${partition.device}: done`);
    }
  } finally {
    await store.close();
  }
}

async function readRange(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return buffer;
  } finally {
    await handle.close();
  }
}

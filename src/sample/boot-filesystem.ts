import { createHash } from 'node:crypto';
import { mkdir, open, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { command } from '../exec/command.ts';
import { runCommand } from '../exec/run-command.ts';
import { sampleBootFiles, type SampleFile } from './boot-files.ts';
import { SAMPLE_EPOCH_SECONDS, SECTOR_BYTES, type SampleLayout } from './sample-layout.ts';
import { mergeExtraDir, pinTimes } from './staging-dir.ts';

/** FAT stores local time: UTC plus pinned mtimes make the bytes the same on every machine. */
const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: '1', TZ: 'UTC', SOURCE_DATE_EPOCH: String(SAMPLE_EPOCH_SECONDS) };

/** Makes the FAT32 `bootfs` filesystem inside the disk file, at the boot partition's offset, and fills it. */
export async function writeBootFilesystem(
  layout: SampleLayout,
  diskFile: string,
  workDir: string,
  files: readonly SampleFile[] = sampleBootFiles(layout),
  /** mkfs.fat sizes clusters by the whole file: a small FAT in a big disk file needs them set (-s). */
  clusterSectors?: number,
): Promise<void> {
  const { startSector, sizeSectors } = layout.boot;
  // What mkfs.fat picks for a FAT32 of this size on its own (512-byte clusters up to 260 MB, then 4 KiB).
  const clusters = clusterSectors ?? (sizeSectors * SECTOR_BYTES <= 260 * 1000 * 1000 ? 1 : 8);
  // --invariant pins the label entry's time, and also the volume id, which is patched afterwards.
  await runCommand(
    command('mkfs.fat', [
      '-F',
      '32',
      '-n',
      'bootfs',
      '--invariant',
      '-s',
      String(clusters),
      '-h',
      String(startSector),
      `--offset=${startSector}`,
      diskFile,
      String((sizeSectors * SECTOR_BYTES) / 1024),
    ]),
  );
  await patchVolumeId(diskFile, startSector * SECTOR_BYTES, bootVolumeId(layout.diskId));

  const staging = path.join(workDir, 'boot');
  const ownFiles = await stageBootFiles(files, staging);
  if (layout.bootExtraDir) await mergeExtraDir(layout.bootExtraDir, staging);
  // mcopy -m copies these times into the FAT entries.
  await pinTimes(staging, ownFiles, SAMPLE_EPOCH_SECONDS);
  const topLevel = (await readdir(staging)).sort().map((name) => path.join(staging, name));
  const image = `${diskFile}@@${startSector * SECTOR_BYTES}`;
  await runCommand(command('mcopy', ['-s', '-m', '-i', image, ...topLevel, '::/'], { env: MTOOLS_ENV }));
}

async function stageBootFiles(files: readonly SampleFile[], staging: string): Promise<string[]> {
  await mkdir(staging, { recursive: true });
  for (const file of files) {
    const target = path.join(staging, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content);
  }
  return files.map((file) => file.path);
}

export function bootVolumeId(diskId: string): number {
  return createHash('sha256').update(`bootfs:${diskId}`).digest().readUInt32LE(0);
}

/** BS_VolID of FAT32 sits at byte 67 of the boot sector and of its backup (sector given at byte 50). */
async function patchVolumeId(diskFile: string, fsOffset: number, volumeId: number): Promise<void> {
  const handle = await open(diskFile, 'r+');
  try {
    const bootSector = Buffer.alloc(SECTOR_BYTES);
    await handle.read(bootSector, 0, SECTOR_BYTES, fsOffset);
    const backupSector = bootSector.readUInt16LE(50);
    const id = Buffer.alloc(4);
    id.writeUInt32LE(volumeId);
    await handle.write(id, 0, 4, fsOffset + 67);
    if (backupSector !== 0) await handle.write(id, 0, 4, fsOffset + backupSector * SECTOR_BYTES + 67);
  } finally {
    await handle.close();
  }
}

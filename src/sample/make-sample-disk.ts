import { mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeBootFilesystem } from './boot-filesystem.ts';
import { writePartitionTable } from './partition-table.ts';
import { writeRootFilesystem } from './root-filesystem.ts';
import { planSampleLayout, SECTOR_BYTES, type SampleDisk, type SampleDiskOptions } from './sample-layout.ts';

export type { SampleDisk, SampleDiskOptions } from './sample-layout.ts';

/**
 * Writes a raw MBR disk image shaped like Raspberry Pi OS Lite (Bookworm) customised by Raspberry Pi
 * Imager and never booted. No root, loop devices or mounts: filesystems are made in place at their
 * partition offsets. The same options give the same bytes.
 */
export async function makeSampleDisk(options: SampleDiskOptions): Promise<SampleDisk> {
  const layout = planSampleLayout(options);
  const partial = `${layout.path}.partial-${process.pid}`;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'sample-disk-'));
  try {
    await writeFile(partial, '');
    await truncate(partial, layout.sectors * SECTOR_BYTES);
    await writePartitionTable(layout, partial);
    await writeBootFilesystem(layout, partial, workDir);
    await writeRootFilesystem(layout, partial, workDir);
    await rename(partial, layout.path);
  } finally {
    await rm(partial, { force: true });
    await rm(workDir, { recursive: true, force: true });
  }
  return {
    path: layout.path,
    diskId: layout.diskId,
    sectors: layout.sectors,
    boot: layout.boot,
    root: layout.root,
  };
}

import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withSlot } from './dir-lock.ts';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import {
  type Ext4FileStat,
  partitionOffset,
  readDiskTable,
  readExt4Text,
  readFatText,
  statExt4,
} from './disk-readers.ts';
import { attachLoop } from './loop-device.ts';
import { newOcsSrLogPath, runOcsSr } from './run-ocs-sr.ts';
import { makeTempDir } from './temp-dir.ts';

export const needsRoot = true;

export interface RestoreRequest {
  readonly imageRoot: string;
  readonly imageName: string;
  /**
   * Created (or replaced) here; removed by cleanup(). Put it in a makeTempDir() dir: a loop device
   * leaked by a crashed worker is then reaped by the next attach.
   */
  readonly diskFile: string;
  /** Default: the size the image records (`Disk /dev/X: Ns` in X-pt.parted). */
  readonly diskSizeBytes?: number;
  /**
   * For ocs-sr itself, not counting the wait for a free ocs-sr slot. Default 600: a restore takes
   * about a minute on an idle machine but was seen taking over five under a load average of 10.
   */
  readonly timeoutSeconds?: number;
  /**
   * Restore from imageRoot itself, not a private copy (to show that a share's layout restores). Runs
   * under a machine-wide lock per image name: ocs-sr converts in /tmp/<image>-tmp-cnvted.
   */
  readonly inPlace?: boolean;
}

export interface RestoredDisk {
  readonly diskFile: string;
  /** ocs-sr's output, for assertions on what it did. */
  readonly log: string;
  readBootFile(file: string): Promise<string>;
  readRootFile(file: string): Promise<string>;
  statRootFile(file: string): Promise<Ext4FileStat>;
  /** `sfdisk -d` of the restored disk */
  sfdiskDump(): Promise<string>;
  /** 8 lower-case hex digits, without 0x */
  diskIdentifier(): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * Counted for our device only: ocs-sr's image-check summary prints a file that every ocs-sr on the
 * machine shares, so a concurrent run's lines can show up in this one's output.
 */
function restoredTo(device: string): RegExp {
  return new RegExp(
    String.raw`Partclone successfully restored the image \(-\) to the device \(${device}p\d+\)`,
    'g',
  );
}

/**
 * Restores a Clonezilla image with the real `ocs-sr restoredisk` onto a loop device backed by
 * `diskFile` (45-90 s, mostly waits inside ocs-sr), then detaches it; reads go to the file.
 */
export async function restoreImageToDisk(request: RestoreRequest): Promise<RestoredDisk> {
  const sourceDir = path.join(request.imageRoot, request.imageName);
  const device = (await readFile(path.join(sourceDir, 'disk'), 'utf8')).trim();
  const size = request.diskSizeBytes ?? (await recordedDiskBytes(sourceDir, device));
  const temp = await makeTempDir();
  let done = false;
  try {
    const { root, name } = request.inPlace
      ? { root: request.imageRoot, name: request.imageName }
      : await privateImageCopy(sourceDir, request.imageName, temp.path);
    await rm(request.diskFile, { force: true });
    await writeFile(request.diskFile, '');
    await truncate(request.diskFile, size);

    const logFile = await newOcsSrLogPath(`restore-${request.imageName}`);
    const loop = await attachLoop(request.diskFile);
    let log: string;
    try {
      const stopSync = loop.startBackgroundSync();
      try {
        const restore = () =>
          runOcsSr(
            ['-or', root, '-k0', '-j2', '-p', 'true', '-batch', '-nogui', '-irhr', '-ius', '-iui'].concat([
              'restoredisk',
              name,
              loop.name,
            ]),
            { logFile, timeoutSeconds: request.timeoutSeconds ?? 600 },
          );
        log = request.inPlace
          ? await withSlot(
              path.join(os.tmpdir(), 'pi-lab-locks', `ocs-image-${name}`),
              1,
              30 * 60_000,
              restore,
            )
          : await restore();
      } finally {
        await stopSync();
      }
    } finally {
      await loop.detach();
    }
    const partitions = (await readFile(path.join(sourceDir, 'parts'), 'utf8')).trim().split(/\s+/).length;
    const restored = log.match(restoredTo(loop.device))?.length ?? 0;
    if (restored !== partitions) {
      throw new Error(`ocs-sr restored ${restored} of ${partitions} partitions (full log: ${logFile})`);
    }
    await rm(logFile, { force: true });
    done = true;
    return restoredDisk(request.diskFile, log, () => temp.remove());
  } finally {
    if (!done) await temp.remove();
  }
}

async function recordedDiskBytes(imageDir: string, device: string): Promise<number> {
  const parted = await readFile(path.join(imageDir, `${device}-pt.parted`), 'utf8');
  const sectors = /^Disk \/dev\/\S+: (\d+)s$/m.exec(parted)?.[1];
  if (!sectors) throw new Error(`${imageDir}/${device}-pt.parted has no "Disk /dev/${device}: <N>s" line`);
  return Number(sectors) * 512;
}

/**
 * ocs-sr converts an image saved from another disk name in /tmp/<image>-tmp-cnvted, a fixed path:
 * a unique image name keeps concurrent restores of one image apart. Partition images are hard
 * links (ocs-sr only reads them); everything else is copied, so the source is never written.
 * No symlinks: ocs-sr sizes the hidden data with `stat` and would restore none of it.
 */
async function privateImageCopy(sourceDir: string, imageName: string, tempDir: string) {
  const root = path.join(tempDir, 'ocsroot');
  const name = `${imageName}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  for (const file of await readdir(sourceDir)) {
    const from = path.join(sourceDir, file);
    const to = path.join(dir, file);
    if (file.includes('-ptcl-img.')) await link(from, to).catch(() => copyFile(from, to));
    else await copyFile(from, to);
  }
  return { root, name };
}

function restoredDisk(diskFile: string, log: string, removeTemp: () => Promise<void>): RestoredDisk {
  return {
    diskFile,
    log,
    readBootFile: async (file) => readFatText(diskFile, await partitionOffset(diskFile, 'boot'), file),
    readRootFile: async (file) => readExt4Text(diskFile, await partitionOffset(diskFile, 'root'), file),
    statRootFile: async (file) => statExt4(diskFile, await partitionOffset(diskFile, 'root'), file),
    sfdiskDump: async () => (await runCommand(command('sfdisk', ['-d', diskFile]))).stdout,
    diskIdentifier: async () => (await readDiskTable(diskFile)).diskId,
    cleanup: async () => {
      await rm(diskFile, { force: true });
      await removeTemp();
    },
  };
}

import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import {
  makeSampleDisk,
  type SampleDisk,
  type SampleDiskOptions,
} from '../../src/sample/make-sample-disk.ts';
import { pseudoRandomBytes } from '../../src/sample/pseudo-random-bytes.ts';
import { cachedEntry, hashInputs } from './fixture-cache.ts';
import { attachLoop } from './loop-device.ts';
import { checkPartitionImage, listPartitionImages } from './partition-images.ts';
import { newOcsSrLogPath, runOcsSr } from './run-ocs-sr.ts';
import { makeTempDir } from './temp-dir.ts';

export const needsRoot = true;

export type FixtureVariant = 'firstrun-8192-cm5' | 'cloud-init-16384-all' | 'firstrun-16384-zstd-split';

export interface SavedCleanImage {
  /** The image root: what `ocs-sr -or` gets. */
  readonly root: string;
  readonly name: string;
  /** root/name */
  readonly dir: string;
  /** The raw disk the image was saved from (read-only, like the rest of the cache). */
  readonly disk: SampleDisk;
  readonly variant: FixtureVariant;
  /** Disk name inside the image: `sda`, or the loop device it was saved from. */
  readonly device: string;
}

interface VariantSpec {
  readonly sample: Omit<SampleDiskOptions, 'path' | 'rootExtraDir'>;
  readonly saveFlags: readonly string[];
  /** Rename the image's device as if it had been saved from a Pi's USB disk. */
  readonly renameDeviceTo?: string;
  /** Random bytes in the root fs, so that a split image really has several pieces. */
  readonly incompressibleMiB?: number;
  readonly codec: 'gz' | 'zst';
}

const VARIANTS: Readonly<Record<FixtureVariant, VariantSpec>> = {
  'firstrun-8192-cm5': {
    sample: { firstBoot: 'firstrun', bootStartSector: 8192, configTxtEndsIn: 'cm5' },
    saveFlags: ['-z1p', '-i', '0'],
    renameDeviceTo: 'sda',
    codec: 'gz',
  },
  'cloud-init-16384-all': {
    sample: { firstBoot: 'cloud-init', bootStartSector: 16384, configTxtEndsIn: 'all' },
    saveFlags: ['-z1p', '-i', '0'],
    codec: 'gz',
  },
  'firstrun-16384-zstd-split': {
    sample: { firstBoot: 'firstrun', bootStartSector: 16384, configTxtEndsIn: 'cm5' },
    saveFlags: ['-z9p', '-i', '1'],
    incompressibleMiB: 4,
    codec: 'zst',
  },
};

export const FIXTURE_VARIANTS = Object.keys(VARIANTS) as FixtureVariant[];

export const IMAGE_NAME = 'pi-img';
const CACHE_ROOT = path.join(os.tmpdir(), 'pi-lab-fixtures');
const SAVE_CHECKED =
  /All the images of partition or LV devices in this image were checked and they are restorable/;

const inProcess = new Map<FixtureVariant, Promise<SavedCleanImage>>();

/**
 * A Clonezilla image of a sample clean disk, saved by real ocs-sr with the lab's flags. Built once
 * per machine (~1 min each) and cached under the OS temp dir; treat it as read-only.
 */
export function savedCleanImage(variant: FixtureVariant): Promise<SavedCleanImage> {
  let pending = inProcess.get(variant);
  if (!pending) {
    pending = loadOrBuild(variant);
    inProcess.set(variant, pending);
    pending.catch(() => inProcess.delete(variant));
  }
  return pending;
}

async function loadOrBuild(variant: FixtureVariant): Promise<SavedCleanImage> {
  const entryDir = path.join(CACHE_ROOT, `${variant}-${await cacheKey(variant)}`);
  await cachedEntry(entryDir, (buildDir) => buildFixture(variant, buildDir));
  const recorded = JSON.parse(await readFile(path.join(entryDir, 'fixture.json'), 'utf8')) as {
    device: string;
    disk: Omit<SampleDisk, 'path'>;
  };
  const root = path.join(entryDir, 'imgroot');
  return {
    root,
    name: IMAGE_NAME,
    dir: path.join(root, IMAGE_NAME),
    disk: { ...recorded.disk, path: path.join(entryDir, 'sample.img') },
    variant,
    device: recorded.device,
  };
}

/** Bump when the build steps change the saved image in a way the inputs below do not show. */
const BUILD_STEPS_VERSION = 1;

/** What decides a fixture's content: the sample generator, the variant, the Clonezilla tools. */
async function cacheKey(variant: FixtureVariant): Promise<string> {
  const sampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/sample');
  const sources = (await readdir(sampleDir)).sort().map((name) => path.join(sampleDir, name));
  const versions = await runCommand(
    command('dpkg-query', ['-W', '-f', '${Version} ', 'clonezilla', 'partclone']),
  )
    .then((result) => result.stdout)
    .catch(() => readFile('/usr/sbin/ocs-sr', 'utf8'));
  return hashInputs([
    JSON.stringify({ variant, spec: VARIANTS[variant], IMAGE_NAME, BUILD_STEPS_VERSION }),
    versions,
    ...(await Promise.all(sources.map((file) => readFile(file)))),
  ]);
}

async function buildFixture(variant: FixtureVariant, buildDir: string): Promise<void> {
  const spec = VARIANTS[variant];
  // Built in a pid-named temp dir so that a loop device leaked by a crash here can be reaped later.
  const temp = await makeTempDir();
  try {
    const rootExtraDir = spec.incompressibleMiB
      ? await writeIncompressibleTree(temp.path, spec.incompressibleMiB)
      : undefined;
    const diskFile = path.join(temp.path, 'sample.img');
    const disk = await makeSampleDisk({ ...spec.sample, path: diskFile, rootExtraDir });
    const imageRoot = path.join(buildDir, 'imgroot');
    await mkdir(imageRoot);

    const logFile = await newOcsSrLogPath(`save-${variant}`);
    const loop = await attachLoop(diskFile);
    try {
      await runOcsSr(
        [
          '-or',
          imageRoot,
          '-q2',
          '-j2',
          ...spec.saveFlags,
          '-sfsck',
          '-senc',
          '-p',
          'true',
          '-batch',
          '-nogui',
        ].concat(['savedisk', IMAGE_NAME, loop.name]),
        { logFile, mustPrint: [SAVE_CHECKED], timeoutSeconds: 600 },
      );
    } finally {
      await loop.detach();
    }
    const device = spec.renameDeviceTo ?? loop.name;
    if (spec.renameDeviceTo) await renameImageDevice(imageRoot, loop.name, spec.renameDeviceTo);
    await verifyImage(path.join(imageRoot, IMAGE_NAME), spec, device, temp.path);

    await rename(diskFile, path.join(buildDir, 'sample.img'));
    await rename(logFile, path.join(buildDir, 'ocs-sr-save.log'));
    const diskFacts = { diskId: disk.diskId, sectors: disk.sectors, boot: disk.boot, root: disk.root };
    await writeFile(
      path.join(buildDir, 'fixture.json'),
      JSON.stringify({ variant, device, disk: diskFacts }, null, 2),
    );
  } finally {
    await temp.remove();
  }
}

async function writeIncompressibleTree(tempDir: string, mib: number): Promise<string> {
  const extra = path.join(tempDir, 'root-extra');
  await mkdir(path.join(extra, 'opt/sample-data'), { recursive: true });
  await writeFile(
    path.join(extra, 'opt/sample-data/random.bin'),
    pseudoRandomBytes('fixture-random', mib * 1024 * 1024),
  );
  return extra;
}

async function renameImageDevice(imageRoot: string, from: string, to: string): Promise<void> {
  await runCommand(command('cnvt-ocs-dev', ['-b', '-d', imageRoot, IMAGE_NAME, from, to]));
  // Only cnvt-ocs-dev writes this; an image saved on the Pi itself has no such file.
  await rm(path.join(imageRoot, IMAGE_NAME, 'device_name_converted.info'), { force: true });
}

async function verifyImage(
  imageDir: string,
  spec: VariantSpec,
  device: string,
  logDir: string,
): Promise<void> {
  const disk = (await readFile(path.join(imageDir, 'disk'), 'utf8')).trim();
  if (disk !== device) throw new Error(`${imageDir}/disk names ${disk}, expected ${device}`);
  for (const file of [
    `${device}-pt.sf`,
    `${device}-pt.parted`,
    `${device}-mbr`,
    `${device}-hidden-data-after-mbr`,
  ]) {
    await readFile(path.join(imageDir, file)).catch(() => {
      throw new Error(`${imageDir}: ${file} is missing`);
    });
  }
  const images = await listPartitionImages(imageDir);
  const summary = images.map((image) => `${image.partition}.${image.fsType}.${image.codec}`).join(' ');
  if (images.length !== 2 || images[0]?.fsType !== 'vfat' || images[1]?.fsType !== 'ext4') {
    throw new Error(`${imageDir}: expected a vfat and an ext4 partition image, found ${summary}`);
  }
  if (images.some((image) => image.codec !== spec.codec))
    throw new Error(`${imageDir}: expected .${spec.codec}: ${summary}`);
  const pieces = images[1].files;
  const splitWanted = !spec.saveFlags.join(' ').includes('-i 0');
  if (
    splitWanted ? pieces.length < 2 : pieces.length !== 1 || pieces[0]?.endsWith(`.${spec.codec}`) !== true
  ) {
    throw new Error(
      `${imageDir}: root image pieces ${pieces.join(', ')} do not match ${spec.saveFlags.join(' ')}`,
    );
  }
  for (const image of images) await checkPartitionImage(imageDir, image, logDir);
}

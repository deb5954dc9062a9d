import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { makeSampleDisk, type SampleDisk } from '../../src/sample/make-sample-disk.ts';
import { cliOutput, runBakeCli, runImportCli } from '../helpers/bake-cli.ts';
import { readDiskTable } from '../helpers/disk-readers.ts';
import { restoreImageToDisk } from '../helpers/ocs-restore.ts';
import { contentOf, makeProjectCopy, snapshotTree } from '../helpers/output-tree.ts';
import {
  checkAllPartitionImages,
  listFatFiles,
  readFatBytes,
  readFatString,
  restorePartitionFiles,
} from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * `npm run import`: a raw disk (a sample disk shaped like Raspberry Pi OS customised by Imager, here
 * in its cloud-init form) becomes a Clonezilla image directory. The ocs-sr round trip bakes one
 * host from the imported image with a recipe that leaves the root filesystem alone, so the root
 * partition ocs-sr restores is the imported partclone image itself, and the boot partition is baked.
 */

const rootTest = skipUnlessRoot(test);
/** ocs-sr takes 45-90 s on an idle machine, several times that on a busy one. */
const RESTORE_TIMEOUT_SECONDS = 540;
const temps: TempDir[] = [];

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

interface Imported {
  readonly disk: SampleDisk;
  readonly dir: string;
}

let imported: Promise<Imported> | undefined;

/** One sample disk imported once; the tests only read it. */
function importSample(): Promise<Imported> {
  imported ??= (async () => {
    const work = await tempDir();
    const disk = await makeSampleDisk({
      path: path.join(work, 'disk.img'),
      firstBoot: 'cloud-init',
      configTxtEndsIn: 'all',
      diskId: '2001db80',
    });
    const result = await runImportCli([disk.path, '--name', 'pi-img', '--out', path.join(work, 'clean')]);
    if (result.exitCode !== 0) throw new Error(`import failed: ${cliOutput(result)}`);
    if (!result.stdout.includes(`as ${path.join(work, 'clean/pi-img')}`)) throw new Error(result.stdout);
    return { disk, dir: path.join(work, 'clean/pi-img') };
  })();
  return imported;
}

const bytesOf = (extent: { startSector: number; sizeSectors: number }) => ({
  offset: extent.startSector * 512,
  length: extent.sizeSectors * 512,
});

/** cmp of `length` bytes at `offsetA` of `a` and `offsetB` of `b` (exit 1 on the first difference). */
async function sameRange(
  a: string,
  offsetA: number,
  b: string,
  offsetB: number,
  length: number,
): Promise<boolean> {
  try {
    await runTool('cmp', ['-s', '-n', String(length), '-i', `${offsetA}:${offsetB}`, a, b]);
    return true;
  } catch {
    return false;
  }
}

test('import writes a Clonezilla image of the disk: metadata, chkimg-clean partition images, the same bytes', async (t) => {
  const { disk, dir } = await importSample();
  const read = (name: string) => readFile(path.join(dir, name), 'utf8');
  t.is(await read('disk'), 'sda\n');
  t.is(await read('parts'), 'sda1 sda2\n');
  const sf = await read('sda-pt.sf');
  t.regex(sf, /^label-id: 0x2001db80$/m);
  t.regex(sf, /^device: \/dev\/sda$/m);
  t.regex(
    sf,
    new RegExp(
      `^/dev/sda1 : start=\\s*${disk.boot.startSector}, size=\\s*${disk.boot.sizeSectors}, type=c`,
      'm',
    ),
  );
  t.regex(
    sf,
    new RegExp(
      `^/dev/sda2 : start=\\s*${disk.root.startSector}, size=\\s*${disk.root.sizeSectors}, type=83`,
      'm',
    ),
  );
  t.regex(await read('sda-pt.parted'), new RegExp(`^Disk /dev/sda: ${disk.sectors}s$`, 'm'));
  t.true(await sameRange(path.join(dir, 'sda-mbr'), 0, disk.path, 0, 512), 'sda-mbr is sector 0');
  const hidden = (disk.boot.startSector - 1) * 512;
  t.is((await stat(path.join(dir, 'sda-hidden-data-after-mbr'))).size, hidden);
  t.true(await sameRange(path.join(dir, 'sda-hidden-data-after-mbr'), 0, disk.path, 512, hidden));
  for (const name of ['sda1.vfat-ptcl-img.gz', 'sda2.ext4-ptcl-img.gz']) {
    t.is((await stat(path.join(dir, name))).mode & 0o777, 0o600, `${name} is private`);
  }

  for (const checked of await checkAllPartitionImages(dir, await tempDir())) {
    t.true(checked.ok, `${checked.files.join(' ')}: ${checked.report}`);
  }
  const files = await restorePartitionFiles(dir, await tempDir());
  const boot = bytesOf(disk.boot);
  const root = bytesOf(disk.root);
  // FAT may end a few sectors before its partition: compare what partclone restored.
  const bootSize = (await stat(files.boot)).size;
  t.true(bootSize <= boot.length && bootSize > boot.length - 64 * 512);
  t.true(await sameRange(files.boot, 0, disk.path, boot.offset, bootSize), 'boot filesystem byte-identical');
  t.is((await stat(files.root)).size, root.length);
  t.true(
    await sameRange(files.root, 0, disk.path, root.offset, root.length),
    'root filesystem byte-identical',
  );
});

test('an .xz disk imports to the same partition images and metadata', async (t) => {
  const { disk, dir } = await importSample();
  const work = await tempDir();
  const plainCopy = path.join(work, 'disk.img');
  await runTool('cp', ['--sparse=always', disk.path, plainCopy]);
  await runTool('xz', ['-1', '-T0', plainCopy]);
  const xzDisk = `${plainCopy}.xz`;
  t.true((await stat(xzDisk)).isFile());
  const result = await runImportCli([xzDisk, '--name', 'from-xz', '--out', path.join(work, 'clean')]);
  t.is(result.exitCode, 0, cliOutput(result));
  // clonezilla-img names the source file, and Info-img-id.txt is its hash.
  const namesSource = new Set(['clonezilla-img', 'Info-img-id.txt']);
  const comparable = async (imageDir: string) =>
    Object.entries(contentOf(await snapshotTree(imageDir))).filter(([name]) => !namesSource.has(name));
  const fromXz = await comparable(path.join(work, 'clean/from-xz'));
  t.is(fromXz.length, (await readdir(path.join(work, 'clean/from-xz'))).length - namesSource.size);
  t.deepEqual(fromXz, await comparable(dir));
  t.regex(await readFile(path.join(work, 'clean/from-xz/clonezilla-img'), 'utf8'), /disk\.img\.xz/);
});

test('importing onto an existing name fails clearly and leaves the existing image alone', async (t) => {
  const { disk, dir } = await importSample();
  const before = await snapshotTree(dir);
  const result = await runImportCli([disk.path, '--name', 'pi-img', '--out', path.dirname(dir)]);
  t.is(result.exitCode, 2, cliOutput(result));
  t.true(result.stderr.includes(`${dir} already exists.`), result.stderr);
  t.regex(result.stderr, /Choose another --name, or remove the old image first/);
  t.deepEqual(await snapshotTree(dir), before);
  t.deepEqual(
    (await readdir(path.dirname(dir))).filter((name) => name !== 'pi-img'),
    [],
    'no staging or scratch directory left',
  );
});

const BOOT_ONLY_RECIPE = `description: Boot partition only; the root filesystem stays as it is in the clean image.
overlays: []
config_txt: [dtoverlay=disable-wifi]
`;

/** A lab in documentation addresses with one host on the boot-only recipe. */
const LAB = `network:
  subnet: 192.0.2.0/24
  router: 192.0.2.1
  dhcp: { start: 192.0.2.11, end: 192.0.2.99, lease: 12h }
  lan: eth0
  uplink: wlan0
image:
  clean: images/pi-img
  placeholder: changeme
hosts:
  - { name: pi2, recipe: boot-only, mac: '02:00:5e:00:53:02', ip: 192.0.2.102 }
`;

rootTest(
  'an imported image, baked (boot only) and restored by real ocs-sr, gives the sample disk back',
  async (t) => {
    const { disk, dir } = await importSample();
    const work = await tempDir();
    const project = await makeProjectCopy(path.join(work, 'project'), { 'boot-only': BOOT_ONLY_RECIPE });
    const lab = path.join(work, 'lab.yaml');
    await writeFile(lab, LAB);
    const outDir = path.join(work, 'images');
    const bake = await runBakeCli(['--lab', lab, '--clean', dir, '--out', outDir], { projectDir: project });
    t.is(bake.exitCode, 0, cliOutput(bake));
    const manifest = JSON.parse(await readFile(path.join(outDir, 'pi2', 'pi-lab-manifest.json'), 'utf8')) as {
      version: string;
      partitions: Record<string, { action: string }>;
    };
    t.like(manifest.partitions, { sda1: { action: 'rebaked' }, sda2: { action: 'reused' } });
    t.is(
      (await stat(path.join(outDir, 'pi2', 'sda2.ext4-ptcl-img.gz'))).ino,
      (await stat(path.join(dir, 'sda2.ext4-ptcl-img.gz'))).ino,
      'the imported root image itself',
    );

    const restored = await restoreImageToDisk({
      imageRoot: outDir,
      imageName: 'pi2',
      diskFile: path.join(work, 'restored.img'),
      timeoutSeconds: RESTORE_TIMEOUT_SECONDS,
    });
    t.teardown(() => restored.cleanup());

    // Sector 0 up to the boot partition (MBR and hidden data) and the whole root partition: the sample's bytes.
    t.true(
      await sameRange(restored.diskFile, 0, disk.path, 0, disk.boot.startSector * 512),
      'MBR and hidden data',
    );
    const root = bytesOf(disk.root);
    t.true(
      await sameRange(restored.diskFile, root.offset, disk.path, root.offset, root.length),
      'root partition',
    );
    t.is(await restored.diskIdentifier(), '2001db80');
    t.deepEqual(await readDiskTable(restored.diskFile), await readDiskTable(disk.path));

    // Boot partition: cloud-init names pi2 with its own instance-id; every other file is the sample's.
    const sampleBoot = `${disk.path}@@${disk.boot.startSector * 512}`;
    const restoredBoot = `${restored.diskFile}@@${disk.boot.startSector * 512}`;
    const userData = await restored.readBootFile('user-data');
    t.regex(userData, /^hostname: pi2$/m);
    t.deepEqual(parse(userData), {
      ...(parse(await readFatString(sampleBoot, 'user-data')) as object),
      hostname: 'pi2',
    });
    const instanceId = /^instance-id: (\S+)$/m.exec(await restored.readBootFile('meta-data'))?.[1];
    const cmdline = await restored.readBootFile('cmdline.txt');
    t.truthy(instanceId);
    t.is(/(?:^| )ds=nocloud;i=([^;\s]+)/.exec(cmdline)?.[1], instanceId);
    t.false(cmdline.includes('\n'));
    for (const name of ['user-data', 'meta-data', 'cmdline.txt']) {
      t.false((await restored.readBootFile(name)).toLowerCase().includes('changeme'), name);
    }
    const sampleConfig = await readFatString(sampleBoot, 'config.txt');
    t.true(sampleConfig.endsWith('[all]\n'));
    t.is(
      await restored.readBootFile('config.txt'),
      `${sampleConfig}dtoverlay=disable-wifi\n`,
      'once, no second [all]',
    );
    t.like(
      JSON.parse(await restored.readBootFile('pi-lab-image.json')) as { host: string; version: string },
      {
        host: 'pi2',
        version: manifest.version,
      },
    );
    const changed = new Set(['user-data', 'meta-data', 'cmdline.txt', 'config.txt', 'pi-lab-image.json']);
    const sampleFiles = await listFatFiles(sampleBoot);
    t.deepEqual(await listFatFiles(restoredBoot), [...sampleFiles, 'pi-lab-image.json'].sort());
    for (const name of sampleFiles.filter((file) => !changed.has(file))) {
      t.true(
        (await readFatBytes(restoredBoot, name)).equals(await readFatBytes(sampleBoot, name)),
        `${name} unchanged`,
      );
    }
  },
);

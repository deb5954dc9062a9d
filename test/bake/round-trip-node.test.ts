import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { cliOutput, runBakeCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { savedCleanImage, type SavedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import { readDiskTable } from '../helpers/disk-readers.ts';
import { restoreImageToDisk } from '../helpers/ocs-restore.ts';
import { partitionImageFiles } from '../helpers/output-tree.ts';
import {
  assertExt4Clean,
  assertFatClean,
  checkAllPartitionImages,
  listFatFiles,
  readExt4String,
  readFatBytes,
  readFatString,
  restorePartitionFiles,
  statExt4Entry,
} from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import {
  assertFirstrunNames,
  assertNodeConfigTxt,
  type ImageMarker,
  NODE_HOSTS,
  overlaySource,
  readManifest,
  SAMPLE_HOSTS,
  SSH_DROP_IN,
} from './sample-lab-expectations.ts';

/*
 * The sample lab baked from the firstrun-8192-cm5 fixture (saved by real ocs-sr from a disk called sda),
 * then pi1 restored by real ocs-sr; the router pi0 has its own file (round-trip-router.test.ts).
 */

const rootTest = skipUnlessRoot(test);
/** ocs-sr takes 45-90 s on an idle machine, several times that on a busy one. */
const RESTORE_TIMEOUT_SECONDS = 540;

interface Baked {
  readonly image: SavedCleanImage;
  readonly temp: TempDir;
  readonly outDir: string;
}

let baking: Promise<Baked> | undefined;
const temps: TempDir[] = [];

/** One bake of every host of the sample lab, shared by the tests of this file (they only read it). */
function bakeSampleLab(): Promise<Baked> {
  baking ??= (async () => {
    const image = await savedCleanImage('firstrun-8192-cm5');
    const temp = await makeTempDir();
    temps.push(temp);
    const outDir = path.join(temp.path, 'images');
    const result = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', image.dir, '--out', outDir]);
    if (result.exitCode !== 0) throw new Error(`bake failed: ${cliOutput(result)}`);
    return { image, temp, outDir };
  })();
  return baking;
}

test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

const bootOf = (image: SavedCleanImage): string => `${image.disk.path}@@${image.disk.boot.startSector * 512}`;

rootTest('pi1 restored by real ocs-sr: hostname, config.txt, marker, key-only SSH, same disk', async (t) => {
  const { image, outDir } = await bakeSampleLab();
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const restored = await restoreImageToDisk({
    imageRoot: outDir,
    imageName: 'pi1',
    diskFile: path.join(temp.path, 'pi1.img'),
    timeoutSeconds: RESTORE_TIMEOUT_SECONDS,
  });
  t.teardown(() => restored.cleanup());
  const cleanBoot = bootOf(image);

  const cmdline = await restored.readBootFile('cmdline.txt');
  t.is(cmdline, await readFatString(cleanBoot, 'cmdline.txt'), 'firstrun images keep cmdline.txt as it is');
  t.false(cmdline.includes('\n'));
  t.regex(cmdline, / systemd\.run=\/boot\/firstrun\.sh /);

  assertFirstrunNames(
    t,
    await restored.readBootFile('firstrun.sh'),
    await readFatString(cleanBoot, 'firstrun.sh'),
    'pi1',
  );
  assertNodeConfigTxt(
    t,
    await restored.readBootFile('config.txt'),
    await readFatString(cleanBoot, 'config.txt'),
  );

  const manifest = await readManifest(path.join(outDir, 'pi1'));
  const marker = JSON.parse(await restored.readBootFile('pi-lab-image.json')) as ImageMarker;
  t.like(marker, { host: 'pi1', version: manifest.version });
  t.regex(manifest.version, /^pi1-[0-9a-f]{12}$/);

  // Every other boot file is the clean image's, byte for byte.
  const restoredBoot = `${restored.diskFile}@@${image.disk.boot.startSector * 512}`;
  const changed = new Set(['firstrun.sh', 'config.txt', 'pi-lab-image.json']);
  const cleanFiles = await listFatFiles(cleanBoot);
  t.deepEqual(await listFatFiles(restoredBoot), [...cleanFiles, 'pi-lab-image.json'].sort());
  for (const file of cleanFiles.filter((name) => !changed.has(name))) {
    t.true(
      (await readFatBytes(restoredBoot, file)).equals(await readFatBytes(cleanBoot, file)),
      `${file} unchanged`,
    );
  }

  t.deepEqual(await restored.statRootFile(SSH_DROP_IN), { type: 'regular', mode: 0o644, uid: 0, gid: 0 });
  const dropIn = await restored.readRootFile(SSH_DROP_IN);
  t.is(dropIn, await overlaySource(`common/rootfs/${SSH_DROP_IN}`));
  t.true(dropIn.split('\n').includes('PasswordAuthentication no'));
  t.is(
    await restored.readRootFile('etc/hostname'),
    'raspberrypi\n',
    'firstrun.sh sets the hostname at first boot',
  );
  // A node gets none of the router's files.
  await t.throwsAsync(restored.statRootFile('etc/dnsmasq.d/lab.conf'), { message: /File not found/ });

  t.is(await restored.diskIdentifier(), image.disk.diskId);
  t.deepEqual(await readDiskTable(restored.diskFile), await readDiskTable(image.disk.path));
});

rootTest('every partition image of every baked host passes partclone.chkimg', async (t) => {
  const { outDir } = await bakeSampleLab();
  const logs = await makeTempDir();
  t.teardown(() => logs.remove());
  for (const host of SAMPLE_HOSTS) {
    const checked = await checkAllPartitionImages(path.join(outDir, host), logs.path);
    t.is(checked.length, 2, `${host}: a boot and a root image`);
    for (const result of checked) t.true(result.ok, `${host} ${result.files.join(' ')}: ${result.report}`);
  }
});

rootTest(
  'every host read back fast: its name, config.txt, marker, clean filesystems, private images',
  async (t) => {
    const { image, outDir } = await bakeSampleLab();
    const cleanBoot = bootOf(image);
    const cleanFirstrun = await readFatString(cleanBoot, 'firstrun.sh');
    const cleanConfig = await readFatString(cleanBoot, 'config.txt');
    const cleanCmdline = await readFatString(cleanBoot, 'cmdline.txt');
    for (const host of SAMPLE_HOSTS) {
      const work = await makeTempDir();
      try {
        const imageDir = path.join(outDir, host);
        const files = await restorePartitionFiles(imageDir, work.path);
        assertFirstrunNames(t, await readFatString(files.boot, 'firstrun.sh'), cleanFirstrun, host);
        t.is(await readFatString(files.boot, 'cmdline.txt'), cleanCmdline, `${host}: cmdline.txt`);
        const config = await readFatString(files.boot, 'config.txt');
        if (host === 'pi0') t.is(config, cleanConfig, 'the router recipe adds no config.txt line');
        else assertNodeConfigTxt(t, config, cleanConfig);
        const manifest = await readManifest(imageDir);
        t.is(manifest.host, host);
        t.like(JSON.parse(await readFatString(files.boot, 'pi-lab-image.json')) as ImageMarker, {
          host,
          version: manifest.version,
        });
        t.like(await statExt4Entry(files.root, SSH_DROP_IN), {
          type: 'regular',
          mode: 0o644,
          uid: 0,
          gid: 0,
        });
        t.is(await readExt4String(files.root, 'etc/hostname'), 'raspberrypi\n');
        await t.notThrowsAsync(assertExt4Clean(files.root), `${host}: e2fsck -fn`);
        await t.notThrowsAsync(assertFatClean(files.boot), `${host}: fsck.vfat -n`);
        for (const name of await partitionImageFiles(imageDir)) {
          t.is((await stat(path.join(imageDir, name))).mode & 0o777, 0o600, `${host}/${name} is private`);
        }
      } finally {
        await work.remove();
      }
    }
  },
);

rootTest('nodes share one re-cloned root image; metadata files are the clean image’s', async (t) => {
  const { image, outDir } = await bakeSampleLab();
  const rootImage = 'sda2.ext4-ptcl-img.gz';
  const inodes = await Promise.all(
    NODE_HOSTS.map(async (host) => (await stat(path.join(outDir, host, rootImage))).ino),
  );
  t.is(new Set(inodes).size, 1, 'pi1, pi2 and pi3 have equal root edits: one image, hard-linked');
  t.not(
    (await stat(path.join(outDir, 'pi0', rootImage))).ino,
    inodes[0],
    'the router has its own root image',
  );
  for (const host of SAMPLE_HOSTS) {
    const manifest = await readManifest(path.join(outDir, host));
    t.deepEqual(
      Object.fromEntries(
        Object.entries(manifest.partitions).map(([device, record]) => [device, record.action]),
      ),
      { sda1: 'rebaked', sda2: 'rebaked' },
    );
    for (const name of [
      'disk',
      'parts',
      'sda-pt.sf',
      'sda-pt.parted',
      'sda-mbr',
      'sda-hidden-data-after-mbr',
    ]) {
      const [baked, clean] = await Promise.all([
        readFile(path.join(outDir, host, name)),
        readFile(path.join(image.dir, name)),
      ]);
      t.true(baked.equals(clean), `${host}/${name} equals the clean image's`);
    }
  }
});

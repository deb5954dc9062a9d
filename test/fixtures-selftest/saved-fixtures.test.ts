import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { savedCleanImage, type FixtureVariant } from '../helpers/clonezilla-fixtures.ts';
import { checkPartitionImage, listPartitionImages } from '../helpers/partition-images.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

// Serial: each build reports as soon as it is done (ava fails a run that reports nothing for its timeout).
const rootTest = skipUnlessRoot(test.serial);

interface Expected {
  readonly device: RegExp;
  readonly codec: string;
  readonly split: boolean;
  readonly bootStart: number;
}

const EXPECTED: Record<FixtureVariant, Expected> = {
  'firstrun-8192-cm5': { device: /^sda$/, codec: 'gz', split: false, bootStart: 8192 },
  'cloud-init-16384-all': { device: /^loop\d+$/, codec: 'gz', split: false, bootStart: 16384 },
  'firstrun-16384-zstd-split': { device: /^loop\d+$/, codec: 'zst', split: true, bootStart: 16384 },
};

for (const [variant, expected] of Object.entries(EXPECTED) as [FixtureVariant, Expected][]) {
  rootTest(`fixture ${variant}: a Clonezilla image that passes partclone.chkimg`, async (t) => {
    const started = Date.now();
    const image = await savedCleanImage(variant);
    t.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const { device } = image;
    t.regex(device, expected.device);
    t.is(image.dir, path.join(image.root, image.name));

    const files = await readdir(image.dir);
    for (const file of [
      'disk',
      'parts',
      `${device}-pt.sf`,
      `${device}-pt.parted`,
      `${device}-mbr`,
      'clonezilla-img',
    ]) {
      t.true(files.includes(file), `${file} in ${files.join(' ')}`);
    }
    t.is((await readFile(path.join(image.dir, 'disk'), 'utf8')).trim(), device);
    const partition = (n: number) => (device.startsWith('loop') ? `${device}p${n}` : `${device}${n}`);
    t.is((await readFile(path.join(image.dir, 'parts'), 'utf8')).trim(), `${partition(1)} ${partition(2)}`);
    const sf = await readFile(path.join(image.dir, `${device}-pt.sf`), 'utf8');
    t.regex(sf, new RegExp(`^label-id: 0x${image.disk.diskId}$`, 'm'));
    t.regex(
      sf,
      new RegExp(`start=\\s*${expected.bootStart}, size=\\s*${image.disk.boot.sizeSectors}, type=c`),
    );
    t.regex(
      await readFile(path.join(image.dir, `${device}-pt.parted`), 'utf8'),
      new RegExp(`^Disk /dev/${device}: ${image.disk.sectors}s$`, 'm'),
    );
    t.is(
      (await stat(path.join(image.dir, `${device}-hidden-data-after-mbr`))).size,
      (expected.bootStart - 1) * 512,
    );
    t.false(files.includes('device_name_converted.info'));

    const images = await listPartitionImages(image.dir);
    t.deepEqual(
      images.map((i) => [i.partition, i.fsType, i.codec]),
      [
        [partition(1), 'vfat', expected.codec],
        [partition(2), 'ext4', expected.codec],
      ],
    );
    const root = images[1]?.files ?? [];
    if (expected.split) {
      t.true(root.length >= 3, root.join(' '));
      t.deepEqual(root.slice(0, 2), [
        `${partition(2)}.ext4-ptcl-img.zst.aa`,
        `${partition(2)}.ext4-ptcl-img.zst.ab`,
      ]);
      const pieceSizes = await Promise.all(
        root.map(async (file) => (await stat(path.join(image.dir, file))).size),
      );
      t.true(
        pieceSizes.slice(0, -1).every((size) => size === 1_000_000),
        pieceSizes.join(' '),
      );
    } else {
      t.deepEqual(root, [`${partition(2)}.ext4-ptcl-img.${expected.codec}`]);
    }

    const logs = await makeTempDir();
    t.teardown(() => logs.remove());
    for (const partitionImage of images)
      await t.notThrowsAsync(checkPartitionImage(image.dir, partitionImage, logs.path));
  });
}

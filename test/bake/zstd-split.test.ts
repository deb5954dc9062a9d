import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { cliOutput, runBakeCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { savedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import { contentOf, makeProjectCopy, partitionImageFiles, snapshotTree } from '../helpers/output-tree.ts';
import { listPartitionImages } from '../helpers/partition-images.ts';
import { checkAllPartitionImages, readFatString, restorePartitionFiles } from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import {
  assertFirstrunNames,
  type ImageMarker,
  readManifest,
  SAMPLE_HOSTS,
} from './sample-lab-expectations.ts';

/*
 * The firstrun-16384-zstd-split fixture: saved with -z9p -i 1, so every partition image is zstd and
 * split into 1 MB `.aa`, `.ab`… pieces of one stream, from a disk called loopN.
 */

const rootTest = skipUnlessRoot(test);

/** A lab in documentation addresses whose hosts use a recipe that leaves the root filesystem alone. */
const BARE_LAB = `network:
  subnet: 192.0.2.0/24
  router: 192.0.2.1
  dhcp: { start: 192.0.2.11, end: 192.0.2.99, lease: 12h }
  lan: eth0
  uplink: wlan0
image:
  clean: images/pi-img
  placeholder: changeme
hosts:
  - { name: bare1, recipe: bare }
  - { name: bare2, recipe: bare, mac: '02:00:00:00:00:02', ip: 192.0.2.102 }
`;

const BARE_RECIPE = `description: Leaves the root filesystem as it is in the clean image.
overlays: []
`;

rootTest(
  'the sample lab bakes from a zstd, split image: rebaked partitions are .zst and pass chkimg',
  async (t) => {
    const image = await savedCleanImage('firstrun-16384-zstd-split');
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const cleanBefore = contentOf(await snapshotTree(image.dir));
    const outDir = path.join(temp.path, 'images');
    const bake = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', image.dir, '--out', outDir]);
    t.is(bake.exitCode, 0, cliOutput(bake));

    const cleanImages = await listPartitionImages(image.dir);
    t.true((cleanImages[1]?.files.length ?? 0) >= 2, 'the fixture root image is split');
    const cleanBoot = `${image.disk.path}@@${image.disk.boot.startSector * 512}`;
    const cleanFirstrun = await readFatString(cleanBoot, 'firstrun.sh');
    for (const host of SAMPLE_HOSTS) {
      const imageDir = path.join(outDir, host);
      const manifest = await readManifest(imageDir);
      const rebaked = Object.values(manifest.partitions).filter((record) => record.action === 'rebaked');
      t.is(rebaked.length, 2, `${host}: boot and root rebaked`);
      for (const record of rebaked) {
        for (const file of record.files)
          t.regex(file, /-ptcl-img\.zst(\.[a-z]{2})?$/, `${host}/${file} is zstd`);
      }
      t.true(
        (await partitionImageFiles(imageDir)).every((name) => /-ptcl-img\.zst(\.[a-z]{2})?$/.test(name)),
        `${host}: no other codec`,
      );
      for (const checked of await checkAllPartitionImages(imageDir, temp.path)) {
        t.true(checked.ok, `${host} ${checked.files.join(' ')}: ${checked.report}`);
      }
      const work = await makeTempDir();
      try {
        const files = await restorePartitionFiles(imageDir, work.path);
        assertFirstrunNames(t, await readFatString(files.boot, 'firstrun.sh'), cleanFirstrun, host);
      } finally {
        await work.remove();
      }
    }
    t.deepEqual(contentOf(await snapshotTree(image.dir)), cleanBefore, 'the clean image is never written');
  },
);

rootTest(
  'a recipe that leaves the root fs alone reuses the split root image: hard links, every piece',
  async (t) => {
    const image = await savedCleanImage('firstrun-16384-zstd-split');
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const project = await makeProjectCopy(path.join(temp.path, 'project'), { bare: BARE_RECIPE });
    const lab = path.join(temp.path, 'bare-lab.yaml');
    await writeFile(lab, BARE_LAB);
    const cleanBefore = contentOf(await snapshotTree(image.dir));
    const outDir = path.join(temp.path, 'images');
    const bake = await runBakeCli(['--lab', lab, '--clean', image.dir, '--out', outDir, '--json'], {
      projectDir: project,
    });
    t.is(bake.exitCode, 0, cliOutput(bake));

    const [boot, root] = await listPartitionImages(image.dir);
    if (!boot || !root) throw new Error('fixture without two partition images');
    t.true(root.files.length >= 2, `split root image: ${root.files.join(' ')}`);
    for (const host of ['bare1', 'bare2']) {
      const imageDir = path.join(outDir, host);
      const manifest = await readManifest(imageDir);
      t.deepEqual(manifest.partitions[root.partition], { action: 'reused', files: root.files });
      t.is(manifest.partitions[boot.partition]?.action, 'rebaked');
      const present = await partitionImageFiles(imageDir);
      for (const piece of root.files) {
        t.true(present.includes(piece), `${host}/${piece} present`);
        const [baked, clean] = await Promise.all([
          stat(path.join(imageDir, piece)),
          stat(path.join(image.dir, piece)),
        ]);
        t.is(baked.ino, clean.ino, `${host}/${piece} is a hard link to the clean piece`);
      }
      t.deepEqual(
        present.filter((name) => name.startsWith(`${root.partition}.`)),
        root.files,
        `${host}: exactly the clean pieces of ${root.partition}`,
      );
      for (const checked of await checkAllPartitionImages(imageDir, temp.path)) {
        t.true(checked.ok, `${host} ${checked.files.join(' ')}: ${checked.report}`);
      }
      const work = await makeTempDir();
      try {
        const files = await restorePartitionFiles(imageDir, work.path);
        t.like(JSON.parse(await readFatString(files.boot, 'pi-lab-image.json')) as ImageMarker, { host });
        t.regex(await readFatString(files.boot, 'firstrun.sh'), new RegExp(`set_hostname ${host}\\n`));
      } finally {
        await work.remove();
      }
    }
    t.deepEqual(contentOf(await snapshotTree(image.dir)), cleanBefore, 'the clean image is never written');
    const clean = await readFile(path.join(image.dir, 'disk'), 'utf8');
    t.is(await readFile(path.join(outDir, 'bare1', 'disk'), 'utf8'), clean);
  },
);

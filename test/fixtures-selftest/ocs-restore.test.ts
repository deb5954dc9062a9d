import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { savedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import { restoreImageToDisk } from '../helpers/ocs-restore.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

const rootTest = skipUnlessRoot(test);

rootTest('a real ocs-sr restore of the firstrun-8192-cm5 fixture round-trips', async (t) => {
  const image = await savedCleanImage('firstrun-8192-cm5');
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const started = Date.now();
  const restored = await restoreImageToDisk({
    imageRoot: image.root,
    imageName: image.name,
    diskFile: path.join(temp.path, 'restored.img'),
  });
  t.teardown(() => restored.cleanup());
  t.log(`restored in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const imageSf = await readFile(path.join(image.dir, 'sda-pt.sf'), 'utf8');
  t.regex(imageSf, new RegExp(`^label-id: 0x${await restored.diskIdentifier()}$`, 'm'));
  t.is(await restored.diskIdentifier(), image.disk.diskId);
  t.regex(await restored.sfdiskDump(), /start=\s*8192, size=\s*131072, type=c/);
  t.regex(
    restored.log,
    /-hidden-data-after-mbr of=\/dev\/loop\d+ seek=1 bs=512 count=8191\n/,
    'hidden data restored',
  );

  const cmdline = await restored.readBootFile('cmdline.txt');
  t.false(cmdline.includes('\n'));
  t.true(cmdline.includes(`root=PARTUUID=${image.disk.diskId}-02 `));
  t.regex(await restored.readBootFile('firstrun.sh'), /set_hostname changeme/);
  t.is(await restored.readRootFile('etc/hostname'), 'raspberrypi\n');
  t.deepEqual(await restored.statRootFile('home/pi'), {
    type: 'directory',
    mode: 0o700,
    uid: 1000,
    gid: 1000,
  });
  t.like(await restored.statRootFile('etc/fstab'), { type: 'regular', mode: 0o644, uid: 0, gid: 0 });
});

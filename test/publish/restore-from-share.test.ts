import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { cliOutput, runScriptCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { bakeSampleLab } from '../helpers/baked-images.ts';
import { restoreImageToDisk } from '../helpers/ocs-restore.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { currentImage } from '../helpers/share-check.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * What imagers do with a published share: `ocs-sr -or <share> restoredisk pi1 <disk>` straight from
 * the share's layout (pi1 a symlink to its version, files hard links into the object store).
 */

const rootTest = skipUnlessRoot(test);

rootTest('a published image restores with real ocs-sr from the share directory itself', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const lab = await bakeSampleLab(temp.path);
  const share = path.join(temp.path, 'share');
  await mkdir(share);
  const published = await runScriptCli('publish', [
    'pi1',
    '--lab',
    SAMPLE_LAB_FILE,
    '--from',
    lab.imagesDir,
    '--to',
    share,
  ]);
  t.is(published.exitCode, 0, cliOutput(published));
  const current = await currentImage(share, 'pi1');

  const restored = await restoreImageToDisk({
    imageRoot: share,
    imageName: 'pi1',
    diskFile: path.join(temp.path, 'pi1-disk.img'),
    inPlace: true,
    timeoutSeconds: 540,
  });
  t.teardown(() => restored.cleanup());
  t.regex(await restored.readBootFile('firstrun.sh'), /set_hostname pi1\n/);
  t.regex(await restored.readBootFile('pi-lab-image.json'), new RegExp(`"version": "${current.version}"`));
  t.regex(await restored.readRootFile('etc/ssh/sshd_config.d/10-key-only.conf'), /PasswordAuthentication no/);
  t.regex(
    restored.log,
    /-hidden-data-after-mbr of=\/dev\/loop\d+ seek=1 bs=512 count=\d+\n/,
    'hidden data restored through the links',
  );
});

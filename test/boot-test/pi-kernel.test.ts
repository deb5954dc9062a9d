import test from 'ava';
import path from 'node:path';
import { cliOutput, runScriptCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { bakeSampleLab } from '../helpers/baked-images.ts';
import { snapshotTree } from '../helpers/output-tree.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

test('an image whose boot partition carries a Raspberry Pi kernel is refused with exit 2, naming the kernel and what to do', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const lab = await bakeSampleLab(temp.path);
  const before = await snapshotTree(lab.imagesDir);

  const run = await runScriptCli(
    'boot-test',
    ['pi1', '--lab', SAMPLE_LAB_FILE, '--from', lab.imagesDir, '--logs', path.join(temp.path, 'logs')],
    { env: { HOME: temp.path, SSH_AUTH_SOCK: '' } },
  );
  t.is(run.exitCode, 2, cliOutput(run));
  t.regex(
    run.stderr,
    /pi1: the kernel its config\.txt names \(kernel_2712\.img\) is .*QEMU's generic machine cannot boot it/,
  );
  t.regex(run.stderr, /npm run sample/);
  t.deepEqual(await snapshotTree(lab.imagesDir), before, 'images/ is only read');
});

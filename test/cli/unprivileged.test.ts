import { chown, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import { cliOutput, runBakeCli, runImportCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { savedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import { snapshotTree } from '../helpers/output-tree.ts';
import {
  checkAllPartitionImages,
  readFatString,
  restorePartitionFiles,
  statExt4Entry,
} from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * Baking and importing need no root: run as nobody (setpriv, so the test itself must be root to
 * switch users) with a PATH that lacks the sbin directories partclone and debugfs live in.
 */

const rootTest = skipUnlessRoot(test);
const NOBODY = { uid: 65534, gid: 65534 };
const USER_PATH = '/usr/local/bin:/usr/bin:/bin';

/** A temp dir owned by nobody (makeTempDir's dir is root's, mode 0700), with a HOME inside. */
async function nobodysDir(t: {
  teardown: (fn: () => Promise<void>) => void;
}): Promise<{ temp: TempDir; home: string }> {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const home = path.join(temp.path, 'home');
  await mkdir(home);
  await runTool('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, temp.path]);
  return { temp, home };
}

async function ownersUnder(dir: string): Promise<string[]> {
  return Object.entries(await snapshotTree(dir))
    .filter(([, facts]) => facts.uid !== NOBODY.uid || facts.gid !== NOBODY.gid)
    .map(([name, facts]) => `${name} ${facts.uid}:${facts.gid}`);
}

rootTest('nobody bakes the router and a node: outputs are nobody’s, images right inside', async (t) => {
  const image = await savedCleanImage('firstrun-8192-cm5');
  const { temp, home } = await nobodysDir(t);
  const clean = path.join(temp.path, 'pi-img');
  await runTool('cp', ['-r', image.dir, clean]);
  await runTool('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, clean]);
  const outDir = path.join(temp.path, 'images');

  const result = await runBakeCli(
    ['pi0', 'pi1', '--lab', SAMPLE_LAB_FILE, '--clean', clean, '--out', outDir],
    {
      asUser: NOBODY,
      env: { HOME: home, PATH: USER_PATH },
    },
  );
  t.is(result.exitCode, 0, cliOutput(result));
  t.deepEqual(await ownersUnder(outDir), [], 'everything written belongs to nobody');
  for (const host of ['pi0', 'pi1']) {
    const imageDir = path.join(outDir, host);
    for (const checked of await checkAllPartitionImages(imageDir, temp.path)) {
      t.true(checked.ok, `${host} ${checked.files.join(' ')}: ${checked.report}`);
    }
    const scratch = await makeTempDir();
    try {
      const files = await restorePartitionFiles(imageDir, scratch.path);
      t.regex(await readFatString(files.boot, 'firstrun.sh'), new RegExp(`set_hostname ${host}\\n`));
      // Ownership inside the image does not depend on who baked it.
      t.like(await statExt4Entry(files.root, 'etc/ssh/sshd_config.d/10-key-only.conf'), {
        uid: 0,
        gid: 0,
        mode: 0o644,
      });
      if (host === 'pi0') {
        t.like(
          await statExt4Entry(files.root, 'etc/NetworkManager/system-connections/lab-lan.nmconnection'),
          {
            type: 'regular',
            uid: 0,
            gid: 0,
            mode: 0o600,
          },
        );
      }
    } finally {
      await scratch.remove();
    }
  }
});

rootTest('nobody imports a sample disk with npm run import', async (t) => {
  const { temp, home } = await nobodysDir(t);
  const disk = await makeSampleDisk({ path: path.join(temp.path, 'disk.img'), firstBoot: 'firstrun' });
  await chown(disk.path, NOBODY.uid, NOBODY.gid);
  const outDir = path.join(temp.path, 'clean');
  const result = await runImportCli([disk.path, '--name', 'pi-img', '--out', outDir], {
    asUser: NOBODY,
    env: { HOME: home, PATH: USER_PATH },
  });
  t.is(result.exitCode, 0, cliOutput(result));
  t.deepEqual(await ownersUnder(outDir), []);
  t.is((await stat(path.join(outDir, 'pi-img/sda2.ext4-ptcl-img.gz'))).mode & 0o777, 0o600);
  for (const checked of await checkAllPartitionImages(path.join(outDir, 'pi-img'), temp.path)) {
    t.true(checked.ok, `${checked.files.join(' ')}: ${checked.report}`);
  }
});

import { chmod, open, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { cliOutput, runBakeCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { savedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import { bakeLeftovers, contentOf, snapshotTree } from '../helpers/output-tree.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * A bake that fails leaves the previous images exactly as they were and nothing half-written. Each
 * test bakes pi1 from a private copy of the firstrun-8192-cm5 fixture, damages one partition image
 * of that copy, and bakes again into the same output directory.
 */

const rootTest = skipUnlessRoot(test);

/** Three minutes are plenty for one host; a bake that hangs on a broken input fails here instead. */
const BAKE_TIMEOUT_MS = 3 * 60_000;

type Damage = (file: string) => Promise<void>;

/** 64 bytes of 0x5a over the middle of the compressed stream: the header still parses. */
const overwriteMiddle: Damage = async (file) => {
  const { size } = await stat(file);
  const handle = await open(file, 'r+');
  try {
    await handle.write(Buffer.alloc(64, 0x5a), 0, 64, Math.floor(size / 2));
  } finally {
    await handle.close();
  }
};

const truncateHalf: Damage = async (file) => {
  await truncate(file, Math.floor((await stat(file)).size / 2));
};

async function failedBakeKeepsPrevious(
  t: ExecutionContext,
  damagedImage: string,
  damage: Damage,
): Promise<void> {
  const image = await savedCleanImage('firstrun-8192-cm5');
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const clean = path.join(temp.path, 'pi-img');
  await runTool('cp', ['-r', image.dir, clean]);
  await chmod(path.join(clean, damagedImage), 0o600);
  const outDir = path.join(temp.path, 'images');
  const args = ['pi0', 'pi1', '--lab', SAMPLE_LAB_FILE, '--clean', clean, '--out', outDir];

  const good = await runBakeCli(args);
  t.is(good.exitCode, 0, cliOutput(good));
  const before = contentOf(await snapshotTree(path.join(outDir, 'pi1')));

  await damage(path.join(clean, damagedImage));
  // The clean image's digest changed, so pi1 is due for a re-bake.
  const failed = await runBakeCli(args, { timeoutMs: BAKE_TIMEOUT_MS });
  if (failed.timedOut) {
    t.fail(
      `the bake hung on a damaged image (killed after ${BAKE_TIMEOUT_MS / 1000} s):\n${cliOutput(failed)}`,
    );
    return;
  }
  // Bad input, said once for the whole bake: not one failure per host, no scratch paths.
  t.is(failed.exitCode, 2, cliOutput(failed));
  t.true(failed.stderr.includes(damagedImage), `the message names ${damagedImage}:\n${failed.stderr}`);
  t.is(failed.stderr.match(/^error: /gm)?.length, 1, `one error:\n${failed.stderr}`);
  t.notRegex(failed.stderr, /pi[01] failed|\.bake-work-/, failed.stderr);
  t.is(failed.stdout, '', 'no summary table');
  t.deepEqual(contentOf(await snapshotTree(path.join(outDir, 'pi1'))), before, 'pi1 byte-identical');
  t.deepEqual(await bakeLeftovers(outDir), []);
}

rootTest('bytes overwritten in the middle of the boot image: exit 2 once, names it, keeps pi1', async (t) => {
  await failedBakeKeepsPrevious(t, 'sda1.vfat-ptcl-img.gz', overwriteMiddle);
});

rootTest('a truncated boot image: exit 2 once, names it, keeps pi1', async (t) => {
  await failedBakeKeepsPrevious(t, 'sda1.vfat-ptcl-img.gz', truncateHalf);
});

rootTest('bytes overwritten in the middle of the root image: exit 2 once, names it, keeps pi1', async (t) => {
  await failedBakeKeepsPrevious(t, 'sda2.ext4-ptcl-img.gz', overwriteMiddle);
});

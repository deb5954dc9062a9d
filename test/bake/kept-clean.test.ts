import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { SILENT_REPORTER } from '../../src/bake/bake-events.ts';
import { runBake } from '../../src/bake/run-bake.ts';
import { formatCommand } from '../../src/exec/command.ts';
import { recordProcesses } from '../../src/exec/process-record.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import {
  cliOutput,
  PROJECT_DIR,
  runBakeCli,
  runImportCli,
  SAMPLE_LAB_FILE,
  TEST_SOURCE_DATE_EPOCH,
} from '../helpers/bake-cli.ts';
import { bakeSampleLab } from '../helpers/baked-images.ts';
import { bakeLeftovers, contentOf, partitionImageFiles, snapshotTree } from '../helpers/output-tree.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * The clean partitions a bake restored are kept in <out>/.bake-clean for the next bake: a change to
 * the router's root filesystem (its DHCP lease) restores nothing, and gives the bytes a bake from
 * scratch gives. Another clean image replaces them. The real tools run, without root.
 */

test('a root change re-bakes from the kept clean partitions: no restore, the bytes of a bake from scratch; a new clean image replaces them', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const baked = await bakeSampleLab(temp.path);
  const keptDir = path.join(baked.imagesDir, '.bake-clean');
  const keptBefore = (await readdir(keptDir)).sort();
  t.is(keptBefore.length, 2, `the boot and root partitions: ${keptBefore.join(', ')}`);
  t.true(keptBefore.every((name) => name.endsWith('.img')));
  const identity = async (names: readonly string[]) =>
    Promise.all(names.map(async (name) => (await stat(path.join(keptDir, name))).ino));
  const inodes = await identity(keptBefore);

  const labFile = path.join(temp.path, 'lab.yaml');
  const data = parse(await readFile(SAMPLE_LAB_FILE, 'utf8')) as { network: { dhcp: { lease: string } } };
  data.network.dhcp.lease = '12h';
  await writeFile(labFile, stringify(data));
  const lab = await loadLab(labFile, { projectDir: PROJECT_DIR });
  const { result, started } = await recordProcesses(() =>
    runBake({
      lab,
      projectDir: PROJECT_DIR,
      hosts: ['pi0'],
      cleanDir: baked.cleanDir,
      outDir: baked.imagesDir,
      dryRun: false,
      reporter: SILENT_REPORTER,
      pinnedTime: Number(TEST_SOURCE_DATE_EPOCH),
    }),
  );
  t.true(result.ok);
  t.deepEqual(
    result.outcomes.map((outcome) => [outcome.host, outcome.status, outcome.partitions]),
    [['pi0', 'baked', { sda1: 'rebaked', sda2: 'rebaked' }]],
  );
  const restores = started.filter(
    (cmd) => path.basename(cmd.program).startsWith('partclone.') && cmd.args.includes('-r'),
  );
  t.deepEqual(restores.map(formatCommand), [], 'nothing was restored: the kept partitions were used');
  t.true(
    started.some((cmd) => path.basename(cmd.program) === 'debugfs'),
    'the root filesystem was edited',
  );
  t.deepEqual(await identity(keptBefore), inodes, 'the kept partitions were neither replaced nor removed');
  t.deepEqual(result.stages.toJSON().restore, undefined);

  const fresh = path.join(temp.path, 'fresh');
  const scratch = await runBakeCli(['pi0', '--lab', labFile, '--clean', baked.cleanDir, '--out', fresh]);
  t.is(scratch.exitCode, 0, cliOutput(scratch));
  const files = await partitionImageFiles(path.join(fresh, 'pi0'));
  const [a, b] = [
    contentOf(await snapshotTree(path.join(baked.imagesDir, 'pi0'))),
    contentOf(await snapshotTree(path.join(fresh, 'pi0'))),
  ];
  for (const file of files) t.is(a[file], b[file], `pi0/${file} as a bake from scratch makes it`);

  // Another clean image: other first-boot files, and one more file in its root filesystem.
  const extra = path.join(temp.path, 'extra');
  await mkdir(path.join(extra, 'etc'), { recursive: true });
  await writeFile(path.join(extra, 'etc/another-clean-image'), 'yes\n');
  const disk = await makeSampleDisk({
    path: path.join(temp.path, 'disk2.img'),
    firstBoot: 'cloud-init',
    rootExtraDir: extra,
  });
  const imported = await runImportCli([
    disk.path,
    '--name',
    'pi-img',
    '--out',
    path.join(temp.path, 'clean2'),
  ]);
  t.is(imported.exitCode, 0, cliOutput(imported));
  const other = await runBakeCli([
    'pi1',
    '--lab',
    labFile,
    '--clean',
    path.join(temp.path, 'clean2/pi-img'),
    '--out',
    baked.imagesDir,
  ]);
  t.is(other.exitCode, 0, cliOutput(other));
  const keptAfter = (await readdir(keptDir)).sort();
  t.is(keptAfter.length, 2, keptAfter.join(', '));
  t.deepEqual(
    keptAfter.filter((name) => keptBefore.includes(name)),
    [],
    'the partitions of the old clean image are gone',
  );
  t.deepEqual(await bakeLeftovers(baked.imagesDir), []);
});

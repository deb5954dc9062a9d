import { spawnSync } from 'node:child_process';
import { lstat, mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import { attachLoop, reapLeakedLoops } from '../helpers/loop-device.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir, TEST_TEMP_PREFIX } from '../helpers/temp-dir.ts';

const rootTest = skipUnlessRoot(test);

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

async function backingFile(name: string): Promise<string | undefined> {
  return readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
}

rootTest(
  'attachLoop registers the partitions and makes their nodes; detach undoes it, twice safely',
  async (t) => {
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const disk = await makeSampleDisk({ path: path.join(temp.path, 'disk.img'), firstBoot: 'firstrun' });
    const loop = await attachLoop(disk.path);
    try {
      t.regex(loop.name, /^loop\d+$/);
      t.is(await backingFile(loop.name), disk.path);
      t.true((await lstat(loop.partitionDevice(1))).isBlockDevice());
      t.true((await lstat(loop.partitionDevice(2))).isBlockDevice());
      const blkid = await runCommand(
        command('blkid', ['-p', '-s', 'LABEL', '-o', 'value', loop.partitionDevice(2)]),
      );
      t.is(blkid.stdout.trim(), 'rootfs');

      // Without udev (CI containers) the nodes are made by hand; a stale node for a gone partition goes.
      await unlink(loop.partitionDevice(1));
      await runCommand(command('mknod', [loop.partitionDevice(3), 'b', '1', '3']));
      await loop.syncPartitions();
      t.true((await lstat(loop.partitionDevice(1))).isBlockDevice());
      t.false(await exists(loop.partitionDevice(3)));
    } finally {
      await loop.detach();
    }
    await t.notThrowsAsync(loop.detach());
    t.false(await exists(loop.partitionDevice(1)));
    t.false(await exists(loop.partitionDevice(2)));
    t.not(await backingFile(loop.name), disk.path);
  },
);

rootTest('syncPartitions follows a partition table rewritten on the device', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const disk = await makeSampleDisk({ path: path.join(temp.path, 'disk.img'), firstBoot: 'firstrun' });
  const loop = await attachLoop(disk.path);
  try {
    const table = ['label: dos', 'unit: sectors', '', 'start=2048, size=20480, type=83', ''].join('\n');
    await runCommand(command('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', loop.device]), {
      input: table,
    });
    await loop.syncPartitions();
    t.is(await readFile(`/sys/block/${loop.name}/${loop.name}p1/start`, 'utf8'), '2048\n');
    t.false(await exists(`/sys/block/${loop.name}/${loop.name}p2`));
    t.false(await exists(loop.partitionDevice(2)));
    t.true((await lstat(loop.partitionDevice(1))).isBlockDevice());
  } finally {
    await loop.detach();
  }
});

rootTest('a loop device left behind by a dead test process is reaped', async (t) => {
  const dead = spawnSync('true').pid;
  t.truthy(dead);
  const orphanDir = await mkdtemp(path.join(os.tmpdir(), `${TEST_TEMP_PREFIX}${dead}-`));
  t.teardown(() => rm(orphanDir, { recursive: true, force: true }));
  const disk = await makeSampleDisk({ path: path.join(orphanDir, 'disk.img'), firstBoot: 'firstrun' });
  const device = (await runCommand(command('losetup', ['-f', '--show', disk.path]))).stdout.trim();
  const name = device.replace('/dev/', '');
  await runCommand(command('partx', ['-a', device]));
  await reapLeakedLoops();
  const now = await backingFile(name);
  t.not(now, disk.path);
  // Another test may have been given the freed device meanwhile: its partitions are its own.
  if (now === undefined) t.false(await exists(`/sys/block/${name}/${name}p1`));
});

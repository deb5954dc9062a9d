import { randomBytes } from 'node:crypto';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { readClonePrefix } from '../../src/pack/clone-prefix.ts';
import { FatPrefixes } from '../../src/pack/fat-prefix.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * The header and bitmap made for an edited copy of a clean FAT32 are the ones partclone.vfat
 * writes for that copy, byte for byte (real mkfs.fat, mtools and partclone); when the rule does
 * not give partclone's prefix for the clean filesystem, or the filesystem is not FAT32, none is
 * made and partclone clones the copy itself.
 */

const MTOOLS = { env: { MTOOLS_SKIP_CHECK: '1' } };

async function makeFat(
  dir: string,
  name: string,
  fatBits: '16' | '32',
  clusterSectors: number,
): Promise<string> {
  const fs = path.join(dir, name);
  // FAT32 needs 65525 clusters at least, FAT16 at most 65524.
  await runCommand(command('truncate', ['-s', fatBits === '32' && clusterSectors > 1 ? '300M' : '48M', fs]));
  await runCommand(command('mkfs.fat', ['-F', fatBits, '-s', String(clusterSectors), fs]));
  for (let index = 0; index < 6; index++) {
    const local = path.join(dir, `${name}-f${index}`);
    await writeFile(local, randomBytes(300_000 * (index + 1)));
    await runCommand(command('mcopy', ['-i', fs, local, `::f${index}`], MTOOLS));
  }
  return fs;
}

/** What a bake does to a host's copy: a file replaced by a bigger one, a file deleted, new ones. */
async function edit(dir: string, fs: string): Promise<void> {
  const bigger = path.join(dir, 'bigger');
  await writeFile(bigger, randomBytes(900_000));
  await runCommand(command('mcopy', ['-o', '-i', fs, bigger, '::f1'], MTOOLS));
  await runCommand(command('mdel', ['-i', fs, '::f3'], MTOOLS));
  await runCommand(command('mmd', ['-i', fs, '::overlays'], MTOOLS));
  const small = path.join(dir, 'config.txt');
  await writeFile(small, 'dtoverlay=disable-wifi\n');
  await runCommand(command('mcopy', ['-i', fs, small, '::overlays/config.txt'], MTOOLS));
}

for (const clusterSectors of [1, 8]) {
  test(`FAT32 with ${clusterSectors}-sector clusters: an edited copy gets partclone.vfat's own prefix`, async (t) => {
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const clean = await makeFat(temp.path, 'clean.img', '32', clusterSectors);
    const prefixes = FatPrefixes.of(clean, path.join(temp.path, 'clean-prefix.log'));
    for (const host of ['pi1', 'pi2']) {
      const copy = path.join(temp.path, `${host}.img`);
      await copyFile(clean, copy);
      await edit(temp.path, copy);
      const ours = await prefixes.prefixFor(copy);
      const partclones = await readClonePrefix('vfat', copy, path.join(temp.path, `${host}.log`));
      t.truthy(ours, `${host}: a prefix is made`);
      t.truthy(partclones);
      t.true(ours?.equals(partclones ?? Buffer.alloc(0)), `${host}: the same bytes as partclone's`);
    }
  });
}

test('no prefix is made for a FAT16, nor when the rule misses partclone for the clean filesystem', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const fat16 = await makeFat(temp.path, 'fat16.img', '16', 4);
  t.is(await FatPrefixes.of(fat16, path.join(temp.path, 'fat16.log')).prefixFor(fat16), undefined);

  const clean = await makeFat(temp.path, 'clean.img', '32', 1);
  const real = await readClonePrefix('vfat', clean, path.join(temp.path, 'real.log'));
  if (!real) throw new Error('partclone gave no prefix');
  const other = Buffer.from(real);
  other[200] = (other[200] ?? 0) ^ 0x01; // one block partclone would see otherwise
  const untrusted = new FatPrefixes(clean, Promise.resolve(other));
  t.is(await untrusted.prefixFor(clean), undefined);
});

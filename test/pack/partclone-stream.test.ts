import { randomBytes } from 'node:crypto';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { readClonePrefix } from '../../src/pack/clone-prefix.ts';
import { encodeBlocks, readLayout } from '../../src/pack/partclone-stream.ts';
import { cloneToFileCommand } from '../../src/tools/partclone.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * The stream encodeBlocks writes from partclone's own header and bitmap is the stream partclone
 * writes, byte for byte: compared with the real partclone on real filesystems, over several
 * checksum groups and a last, shorter one.
 */

async function collect(pieces: AsyncIterable<Buffer>): Promise<Buffer> {
  const all: Buffer[] = [];
  for await (const piece of pieces) all.push(piece);
  return Buffer.concat(all);
}

/** An ext4 of 64 MiB holding 26 MiB in files of many sizes (3 checksum groups of 2560 blocks). */
async function makeExt4(dir: string): Promise<string> {
  const content = path.join(dir, 'content');
  await mkdir(path.join(content, 'etc'), { recursive: true });
  for (let index = 0; index < 40; index++)
    await writeFile(path.join(content, `file-${index}`), randomBytes(17_000 * (index + 1)));
  await writeFile(path.join(content, 'etc/hostname'), 'changeme\n');
  const fs = path.join(dir, 'root.img');
  await runCommand(command('mke2fs', ['-q', '-t', 'ext4', '-b', '4096', '-d', content, fs, '64M']));
  return fs;
}

async function partcloneStream(fs: string, type: string, dir: string): Promise<Buffer> {
  const stream = path.join(dir, `${type}.ptcl`);
  await runCommand(cloneToFileCommand(type, fs, stream, path.join(dir, `${type}-clone.log`)));
  return readFile(stream);
}

test('ext4: the encoded stream is the one partclone writes, byte for byte', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const fs = await makeExt4(temp.path);
  const expected = await partcloneStream(fs, 'ext4', temp.path);
  const prefix = await readClonePrefix('ext4', fs, path.join(temp.path, 'prefix.log'));
  if (!prefix) throw new Error('partclone wrote a stream encodeBlocks cannot continue');
  const layout = readLayout(prefix);
  t.is(layout?.blocksPerChecksum, 2560, "Clonezilla's 10 MiB grouping");
  t.true((layout?.usedBlocks ?? 0) > 2 * 2560, `${layout?.usedBlocks} used blocks: more than two groups`);
  t.is(layout?.streamBytes, expected.length);
  const encoded = await collect(encodeBlocks(fs, prefix));
  t.is(encoded.length, expected.length);
  t.true(encoded.equals(expected), 'the same bytes');
});

test('vfat: 512-byte blocks, the same bytes', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const fs = path.join(temp.path, 'boot.img');
  await runCommand(command('truncate', ['-s', '40M', fs]));
  await runCommand(command('mkfs.fat', ['-F', '32', '-s', '1', fs]));
  for (let index = 0; index < 12; index++) {
    const local = path.join(temp.path, `f${index}`);
    await writeFile(local, randomBytes(100_000 * (index + 1)));
    await runCommand(command('mcopy', ['-i', fs, local, `::f${index}`], { env: { MTOOLS_SKIP_CHECK: '1' } }));
  }
  const expected = await partcloneStream(fs, 'vfat', temp.path);
  const prefix = await readClonePrefix('vfat', fs, path.join(temp.path, 'prefix.log'));
  if (!prefix) throw new Error('partclone wrote a stream encodeBlocks cannot continue');
  t.is(readLayout(prefix)?.blockSize, 512);
  t.true((await collect(encodeBlocks(fs, prefix))).equals(expected));
});

test('a stream of another mode is left to partclone; a filesystem file cut short is an error, not zeros', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const fs = await makeExt4(temp.path);
  const prefix = await readClonePrefix('ext4', fs, path.join(temp.path, 'prefix.log'));
  if (!prefix) throw new Error('partclone wrote a stream encodeBlocks cannot continue');
  const unseeded = Buffer.from(prefix);
  unseeded[104] = 0;
  t.is(readLayout(unseeded), undefined, 'checksums carried across groups');
  t.is(readLayout(Buffer.from('not a partclone stream'.padEnd(200))), undefined);
  await truncate(fs, 8 * 1024 * 1024);
  await t.throwsAsync(() => collect(encodeBlocks(fs, prefix)), { message: /past the end|ends early/ });
});

import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { applyBootEdits } from '../../src/bake/apply-boot-edits.ts';
import type { FileEdit } from '../../src/bake/bake-types.ts';
import { cloneAndPack, type CloneRoute } from '../../src/pack/clone-and-pack.ts';
import { MemberStore } from '../../src/pack/member-store.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * The clone-and-pack step on small FAT filesystems made here (no root needed): both routes of the
 * stream give the same image, hosts packing at once share members safely, and the boot edits'
 * batched mcopy calls give the image one mcopy per edit gives.
 */

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };
const PINNED_TIME = 1_700_000_000;

const temps: TempDir[] = [];
test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

/** Deterministic bytes that gzip cannot shrink, so that chunks are big and many (AES-CTR of zeros). */
function noise(seed: string, bytes: number): Buffer {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes));
}

/** A FAT32 filesystem image holding `files` (name → bytes). */
async function makeFat(dir: string, name: string, files: Record<string, Buffer>): Promise<string> {
  const image = path.join(dir, name);
  await runTool('truncate', ['-s', '64M', image]);
  await runTool('mkfs.vfat', ['-F', '32', '-i', '12345678', image]);
  for (const [file, content] of Object.entries(files)) {
    const local = path.join(dir, `${name}-${file}`);
    await writeFile(local, content);
    await utimes(local, PINNED_TIME, PINNED_TIME);
    await runTool('mcopy', ['-m', '-i', image, local, `::/${file}`], { env: MTOOLS_ENV });
  }
  return image;
}

/** partclone's own stream of the filesystem, as the bake clones it. */
async function partcloneStream(dir: string, image: string, fs = 'vfat'): Promise<Buffer> {
  const out = path.join(dir, `${path.basename(image)}.ptcl`);
  await runTool(`partclone.${fs}`, [
    '-f',
    '0',
    '-B',
    '-z',
    '10485760',
    '-c',
    '-s',
    image,
    '-o',
    out,
    '-L',
    `${out}.log`,
  ]);
  return readFile(out);
}

async function pack(
  dir: string,
  image: string,
  store: MemberStore,
  route: CloneRoute,
  fs = 'vfat',
): Promise<{ file: string; sha256: string }> {
  const workDir = path.join(dir, `${path.basename(image)}-${route}-${Math.random().toString(36).slice(2)}`);
  await mkdir(workDir);
  const output = path.join(workDir, `sda1.${fs}-ptcl-img.gz`);
  const packed = await cloneAndPack({
    fs,
    sourceFile: image,
    output,
    codec: 'gz',
    store,
    workDir,
    route,
  });
  return { file: output, sha256: packed.fileSha256 };
}

async function gunzip(file: string): Promise<Buffer> {
  return runTool('pigz', ['-d', '-c', file]);
}

test('a FAT filesystem packs to the same bytes through a scratch file and through the tee', async (t) => {
  const dir = await tempDir();
  const image = await makeFat(dir, 'boot.img', {
    'kernel.img': noise('kernel', 9_000_000),
    'initrd.img': noise('initrd', 6_000_000),
    'config.txt': Buffer.from('arm_64bit=1\n'),
  });
  const stream = await partcloneStream(dir, image);
  const byRoute = new Map<CloneRoute, { file: string; sha256: string }>();
  for (const route of ['scratch-file', 'tee'] as const) {
    const store = await MemberStore.create(path.join(dir, `members-${route}.bin`));
    try {
      byRoute.set(route, await pack(dir, image, store, route));
    } finally {
      await store.close();
    }
  }
  const viaFile = byRoute.get('scratch-file');
  const viaTee = byRoute.get('tee');
  if (!viaFile || !viaTee) throw new Error('a route did not pack');
  t.true((await readFile(viaFile.file)).equals(await readFile(viaTee.file)), 'the same image bytes');
  t.is(
    viaFile.sha256,
    createHash('sha256')
      .update(await readFile(viaFile.file))
      .digest('hex'),
  );
  t.true((await gunzip(viaFile.file)).equals(stream), "it decompresses to partclone's stream");
});

test("an ext4 filesystem, its blocks encoded here, packs to the same bytes by both routes, which decompress to partclone's own stream", async (t) => {
  const dir = await tempDir();
  const content = path.join(dir, 'root-content');
  await mkdir(path.join(content, 'etc'), { recursive: true });
  for (let index = 0; index < 12; index++)
    await writeFile(path.join(content, `blob-${index}`), noise(`blob ${index}`, 1_500_000 + index * 100_000));
  await writeFile(path.join(content, 'etc/hostname'), 'changeme\n');
  const image = path.join(dir, 'root.img');
  await runTool('mke2fs', [
    '-q',
    '-t',
    'ext4',
    '-b',
    '4096',
    '-E',
    'root_owner=0:0',
    '-d',
    content,
    image,
    '96M',
  ]);
  const stream = await partcloneStream(dir, image, 'ext4');
  const packed: { file: string; sha256: string }[] = [];
  for (const route of ['scratch-file', 'tee'] as const) {
    const store = await MemberStore.create(path.join(dir, `ext4-members-${route}.bin`));
    try {
      packed.push(await pack(dir, image, store, route, 'ext4'));
    } finally {
      await store.close();
    }
  }
  const [viaFile, viaTee] = packed;
  if (!viaFile || !viaTee) throw new Error('a route did not pack');
  t.is(viaFile.sha256, viaTee.sha256, 'the same image bytes');
  t.true((await gunzip(viaTee.file)).equals(stream), "it decompresses to partclone's stream");
});

test('hosts packed at once with one member store each get an image of their own filesystem', async (t) => {
  const dir = await tempDir();
  const shared = { 'kernel.img': noise('shared kernel', 12_000_000), 'dtb.bin': noise('dtb', 3_000_000) };
  const images = await Promise.all(
    ['a', 'b', 'c', 'd'].map((host) =>
      makeFat(dir, `${host}.img`, { ...shared, 'hostname.txt': Buffer.from(`${host}\n`) }),
    ),
  );
  const store = await MemberStore.create(path.join(dir, 'members.bin'));
  let packed: { file: string; sha256: string }[];
  try {
    // Two routes, two at a time per image: every member is made by one stream and read by others.
    packed = await Promise.all(
      images.flatMap((image) => [pack(dir, image, store, 'tee'), pack(dir, image, store, 'scratch-file')]),
    );
  } finally {
    await store.close();
  }
  for (const [index, image] of images.entries()) {
    const stream = await partcloneStream(dir, image);
    for (const result of packed.slice(index * 2, index * 2 + 2)) {
      t.true((await gunzip(result.file)).equals(stream), `${path.basename(image)}: ${result.file}`);
    }
  }
});

test('boot edits batched per directory give the image one mcopy per edit gives', async (t) => {
  const dir = await tempDir();
  const clean = await makeFat(dir, 'clean.img', {
    'config.txt': Buffer.from('[all]\n'),
    'start4.elf': noise('start4', 500_000),
  });
  const edit = (target: string, content: string | Buffer): FileEdit => ({
    path: target,
    content: Buffer.from(content),
    mode: 0o644,
    uid: 0,
    gid: 0,
    reason: 'test',
  });
  const edits = [
    edit('/README.txt', 'same entry, twice\n'),
    edit('/config.txt', '[all]\ndtoverlay=disable-wifi\n'),
    edit('/firstrun.sh', '#!/bin/sh\necho pi7\n'),
    edit('/overlays/a.dtbo', noise('a.dtbo', 40_000)),
    edit('/overlays/deeper/b.txt', 'b\n'),
    edit('/pi-lab-image.json', '{"host":"pi7"}\n'),
    edit('/readme.TXT', 'same entry, twice\n'),
  ];

  const batched = path.join(dir, 'batched.img');
  await runTool('cp', ['--sparse=always', clean, batched]);
  await applyBootEdits(batched, edits, path.join(dir, 'batched-files'), PINNED_TIME);

  // What one mmd per directory and one mcopy per edit make of the same edits, in the same order.
  const oneByOne = path.join(dir, 'one-by-one.img');
  await runTool('cp', ['--sparse=always', clean, oneByOne]);
  for (const directory of ['/overlays', '/overlays/deeper'])
    await runTool('mmd', ['-D', 's', '-i', oneByOne, `::${directory}`], {
      env: { ...MTOOLS_ENV, SOURCE_DATE_EPOCH: String(PINNED_TIME) },
    });
  for (const [index, { path: target, content }] of edits.entries()) {
    const local = path.join(dir, `one-by-one-${index}`);
    await writeFile(local, content);
    await utimes(local, PINNED_TIME, PINNED_TIME);
    await runTool('mcopy', ['-o', '-m', '-i', oneByOne, local, `::${target}`], { env: MTOOLS_ENV });
  }

  t.true((await readFile(batched)).equals(await readFile(oneByOne)), 'byte-identical FAT images');
  const readBack = await runTool('mcopy', ['-n', '-i', batched, '::/overlays/deeper/b.txt', '-'], {
    env: MTOOLS_ENV,
  });
  t.is(readBack.toString(), 'b\n');
});

test('the member store hands a member out only once it is written, and makes a chunk two streams want once', async (t) => {
  const dir = await tempDir();
  const store = await MemberStore.create(path.join(dir, 'members.bin'));
  t.teardown(() => store.close());
  const member = noise('member', 2_000_000);
  const adding = store.add('written', member);
  const early = await store.get('written');
  t.true(early === undefined || early.equals(member), 'never the bytes of a write still in flight');
  await adding;
  t.true((await store.get('written'))?.equals(member));

  let made = 0;
  const make = async (): Promise<Buffer> => {
    made++;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return noise('wanted twice', 100_000);
  };
  const [first, second] = await Promise.all([store.obtain('twice', make), store.obtain('twice', make)]);
  t.is(made, 1);
  t.true(first.equals(second));
});

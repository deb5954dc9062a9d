import { mkdir, open, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { MANIFEST_FILE } from '../../src/image/manifest.ts';
import { cliOutput, type CliResult, runScriptCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { type BakedLab, bakeNodeVariant, bakeSampleLab } from '../helpers/baked-images.ts';
import { contentOf, snapshotTree } from '../helpers/output-tree.ts';
import { currentImage, inodeOf, shareInventory, unreferencedObjects } from '../helpers/share-check.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * Publish to a share that is a directory (a local disk, or the NFS share mounted on the build
 * machine), with the real bake's images of the sample lab. Every test publishes into its own share.
 */

const HOSTS = ['pi0', 'pi1', 'pi2', 'pi3'];
const NODES = ['pi1', 'pi2', 'pi3'];
const temps: TempDir[] = [];

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

let baked: Promise<BakedLab & { variants: (line: string) => Promise<string> }> | undefined;

/** The sample lab baked once for the file; variants (node config.txt line) baked on demand, once each. */
function bakedLab() {
  baked ??= (async () => {
    const dir = await tempDir();
    const lab = await bakeSampleLab(dir);
    const variants = new Map<string, Promise<string>>();
    return {
      ...lab,
      variants: (line: string) => {
        let done = variants.get(line);
        if (!done) {
          const out = path.join(dir, `images-${variants.size + 1}`);
          done = bakeNodeVariant(lab, path.join(dir, `project-${variants.size + 1}`), out, line).then(
            () => out,
          );
          variants.set(line, done);
        }
        return done;
      },
    };
  })();
  return baked;
}

async function newShare(): Promise<string> {
  const share = path.join(await tempDir(), 'share');
  await mkdir(share);
  return share;
}

interface PublishJson {
  readonly ok: boolean;
  readonly bytesSent: number;
  readonly hosts: readonly {
    host: string;
    status: string;
    version: string;
    previous?: string;
    error?: string;
  }[];
}

function parsed(result: CliResult): PublishJson {
  try {
    return JSON.parse(result.stdout) as PublishJson;
  } catch {
    throw new Error(`not JSON:\n${cliOutput(result)}`);
  }
}

function statuses(result: CliResult): Record<string, string> {
  return Object.fromEntries(parsed(result).hosts.map((h) => [h.host, h.status]));
}

function publish(from: string, share: string, extra: readonly string[] = []): Promise<CliResult> {
  return runScriptCli('publish', [
    '--lab',
    SAMPLE_LAB_FILE,
    '--from',
    from,
    '--to',
    share,
    '--json',
    ...extra,
  ]);
}

async function manifestVersion(imagesDir: string, host: string): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(imagesDir, host, 'pi-lab-manifest.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

test('publish to a directory: each host name is its current version, verified, the root image stored once', async (t) => {
  const lab = await bakedLab();
  const share = await newShare();
  const result = await publish(lab.imagesDir, share);
  t.is(result.exitCode, 0, cliOutput(result));
  t.deepEqual(statuses(result), Object.fromEntries(HOSTS.map((h) => [h, 'published'])));

  for (const host of HOSTS) {
    const current = await currentImage(share, host);
    t.is(current.version, await manifestVersion(lab.imagesDir, host));
    t.deepEqual(current.mismatches, [], `${host}: every file as its manifest says`);
    t.regex(
      await readlink(path.join(share, host)),
      new RegExp(`^\\.pi-lab/hosts/${host}/${host}-[0-9a-f]{12}$`),
    );
    t.true(await stat(path.join(share, host, 'disk')).then((s) => s.isFile()), 'a Clonezilla image dir');
  }
  const rootImage = 'sda2.ext4-ptcl-img.gz';
  const inodes = new Set(await Promise.all(NODES.map((host) => inodeOf(share, host, rootImage))));
  t.is(inodes.size, 1, 'the nodes share one stored root image');
  t.not(await inodeOf(share, 'pi0', rootImage), [...inodes][0], 'the router has its own root image');

  // Bytes sent: each distinct file once.
  const distinct = new Map<string, number>();
  for (const host of HOSTS) {
    for (const file of Object.values((await currentImage(share, host)).manifest.files))
      distinct.set(file.sha256, file.size);
  }
  t.is(
    parsed(result).bytesSent,
    [...distinct.values()].reduce((a, b) => a + b, 0),
  );
  const inventory = await shareInventory(share);
  t.is(inventory.objects.length, distinct.size);
  t.deepEqual(inventory.incoming, [], 'no upload area left');
  t.false(
    await stat(path.join(share, '.pi-lab/lock')).then(
      () => true,
      () => false,
    ),
    'lock released',
  );
});

test('re-publishing unchanged images sends nothing and changes nothing on the share', async (t) => {
  const lab = await bakedLab();
  const share = await newShare();
  t.is((await publish(lab.imagesDir, share)).exitCode, 0);
  const before = await snapshotTree(share);
  const again = await publish(lab.imagesDir, share);
  t.is(again.exitCode, 0, cliOutput(again));
  t.deepEqual(statuses(again), Object.fromEntries(HOSTS.map((h) => [h, 'unchanged'])));
  t.is(parsed(again).bytesSent, 0);
  t.deepEqual(contentOf(await snapshotTree(share)), contentOf(before));
});

test('a new version becomes current; rollback goes back to the previous one and --to forward again', async (t) => {
  const lab = await bakedLab();
  const share = await newShare();
  t.is((await publish(lab.imagesDir, share)).exitCode, 0);
  const first = await manifestVersion(lab.imagesDir, 'pi1');
  const newer = await lab.variants('dtoverlay=disable-bt');
  const second = await manifestVersion(newer, 'pi1');
  t.not(second, first);

  const result = await publish(newer, share);
  t.is(result.exitCode, 0, cliOutput(result));
  t.deepEqual(statuses(result), { pi0: 'unchanged', pi1: 'published', pi2: 'published', pi3: 'published' });
  const pi1 = parsed(result).hosts.find((h) => h.host === 'pi1');
  t.like(pi1, { version: second, previous: first });
  t.is((await currentImage(share, 'pi1')).version, second);
  // Only the boot images are new: the nodes' root image was on the share already.
  const bootBytes = await Promise.all(
    NODES.map(async (host) => (await stat(path.join(newer, host, 'sda1.vfat-ptcl-img.gz'))).size),
  );
  t.true(
    parsed(result).bytesSent <= bootBytes.reduce((a, b) => a + b, 0) + 4096,
    `${parsed(result).bytesSent}`,
  );

  const back = await runScriptCli('rollback', ['pi1', '--lab', SAMPLE_LAB_FILE, '--share', share]);
  t.is(back.exitCode, 0, cliOutput(back));
  t.regex(back.stdout, new RegExp(`pi1: ${second} → ${first} is now current`));
  const restored = await currentImage(share, 'pi1');
  t.is(restored.version, first);
  t.deepEqual(restored.mismatches, []);
  t.is(
    (await currentImage(share, 'pi2')).version,
    await manifestVersion(newer, 'pi2'),
    'other hosts untouched',
  );

  const forward = await runScriptCli('rollback', [
    'pi1',
    '--to',
    second,
    '--lab',
    SAMPLE_LAB_FILE,
    '--share',
    share,
  ]);
  t.is(forward.exitCode, 0, cliOutput(forward));
  t.is((await currentImage(share, 'pi1')).version, second);

  const listing = await runScriptCli('images', [
    '--lab',
    SAMPLE_LAB_FILE,
    '--from',
    newer,
    '--share',
    share,
    '--json',
  ]);
  t.is(listing.exitCode, 0, cliOutput(listing));
  const rows = (
    JSON.parse(listing.stdout) as {
      images: { host: string; where: string; version: string; state: string }[];
    }
  ).images;
  t.deepEqual(
    rows
      .filter((r) => r.host === 'pi1' && r.where === 'share')
      .map((r) => [r.version, r.state])
      .sort(),
    [
      [first, ''],
      [second, 'current'],
    ].sort(),
  );
  t.deepEqual(
    rows.filter((r) => r.host === 'pi1' && r.where === 'local').map((r) => r.version),
    [second],
  );

  const unknown = await runScriptCli('rollback', [
    'pi1',
    '--to',
    'pi1-000000000000',
    '--lab',
    SAMPLE_LAB_FILE,
    '--share',
    share,
  ]);
  t.is(unknown.exitCode, 2, cliOutput(unknown));
  t.regex(unknown.stderr, /has no version pi1-000000000000 of pi1/);
  t.regex(unknown.stderr, new RegExp(`Versions there: .*${first}`));
});

test('--keep 2 keeps the two newest versions of each host and drops the files no version uses', async (t) => {
  const lab = await bakedLab();
  const share = await newShare();
  const outs = [
    lab.imagesDir,
    await lab.variants('dtoverlay=disable-bt'),
    await lab.variants('dtparam=audio=off'),
  ];
  for (const out of outs) {
    const result = await publish(out, share, ['--keep', '2']);
    t.is(result.exitCode, 0, cliOutput(result));
  }
  const inventory = await shareInventory(share);
  const kept = await Promise.all(outs.slice(1).map((out) => manifestVersion(out, 'pi1')));
  t.deepEqual(inventory.versions.pi1, [...kept].sort());
  t.deepEqual(inventory.versions.pi0, [await manifestVersion(lab.imagesDir, 'pi0')], 'one router version');
  t.deepEqual(await unreferencedObjects(share), []);
  t.is((await currentImage(share, 'pi1')).version, await manifestVersion(outs[2] ?? '', 'pi1'));
});

test('a file changed after the bake is refused before the switch, named; the current version stays', async (t) => {
  const lab = await bakedLab();
  const share = await newShare();
  t.is((await publish(lab.imagesDir, share)).exitCode, 0);
  const before = (await currentImage(share, 'pi1')).version;

  const changed = path.join(await tempDir(), 'images');
  await mkdir(changed);
  const variant = await lab.variants('dtoverlay=disable-bt');
  for (const host of HOSTS) await runTool('cp', ['-a', path.join(variant, host), changed]);
  const damaged = path.join(changed, 'pi1', 'sda1.vfat-ptcl-img.gz');
  const handle = await open(damaged, 'r+');
  await handle.write(Buffer.from('damaged!'), 0, 8, 4096);
  await handle.close();

  const result = await publish(changed, share);
  t.is(result.exitCode, 1, cliOutput(result));
  const pi1 = parsed(result).hosts.find((h) => h.host === 'pi1');
  t.is(pi1?.status, 'failed');
  t.regex(pi1?.error ?? '', /sda1\.vfat-ptcl-img\.gz changed since it was baked/);
  t.regex(pi1?.error ?? '', /bake again/);
  t.is((await currentImage(share, 'pi1')).version, before, 'pi1 still points at the verified version');
  t.deepEqual((await currentImage(share, 'pi1')).mismatches, []);
  t.is(statuses(result).pi2, 'published', 'the other hosts go on');
  t.deepEqual((await shareInventory(share)).incoming, []);
  t.deepEqual(await unreferencedObjects(share), [], 'the damaged upload was not stored');
});

test('a directory under a host name that publish did not make is reported and left alone', async (t) => {
  const lab = await bakedLab();
  const share = await newShare();
  await mkdir(path.join(share, 'pi1'));
  await writeFile(path.join(share, 'pi1', 'disk'), 'sda\n');
  const result = await publish(lab.imagesDir, share);
  t.is(result.exitCode, 2, cliOutput(result));
  t.regex(result.stderr, /has pi1 as a directory or file that publish did not make/);
  t.regex(result.stderr, /mv pi1 pi1\.manual/);
  t.is(await readFile(path.join(share, 'pi1', 'disk'), 'utf8'), 'sda\n');
  t.false(
    await stat(path.join(share, 'pi0')).then(
      () => true,
      () => false,
    ),
    'nothing published',
  );
});

test('bad input: no share, a share directory that does not exist, a host that was not baked', async (t) => {
  const lab = await bakedLab();
  const noShare = await runScriptCli('publish', [
    '--lab',
    SAMPLE_LAB_FILE,
    '--from',
    lab.imagesDir,
    '--to',
    path.join(await tempDir(), 'absent'),
  ]);
  t.is(noShare.exitCode, 2, cliOutput(noShare));
  t.regex(noShare.stderr, /absent is not a directory/);

  const empty = path.join(await tempDir(), 'images');
  await mkdir(empty);
  const notBaked = await publish(empty, await newShare(), []);
  t.is(notBaked.exitCode, 2, cliOutput(notBaked));
  t.regex(notBaked.stderr, /pi1: no baked image in .* \(run npm run bake -- pi1 first\)/);

  const badKeep = await publish(lab.imagesDir, await newShare(), ['--keep', '0']);
  t.is(badKeep.exitCode, 2);
  t.regex(badKeep.stderr, /--keep 0: give a whole number from 1 to 100/);
});

test('a manifest of another schema is refused with its path, before anything is uploaded', async (t) => {
  const lab = await bakedLab();
  const share = await newShare();
  const copy = path.join(await tempDir(), 'images');
  await mkdir(copy);
  for (const host of HOSTS) await runTool('cp', ['-a', path.join(lab.imagesDir, host), copy]);
  const manifest = path.join(copy, 'pi1', MANIFEST_FILE);
  await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"schema": 1', '"schema": 7'));

  const result = await publish(copy, share);
  t.is(result.exitCode, 2, cliOutput(result));
  t.true(
    cliOutput(result).includes(`${manifest} is a pi-lab manifest of schema 7; this pi-lab reads schema 1`),
    cliOutput(result),
  );
  t.regex(cliOutput(result), /What to do: bake the host again/);
  t.deepEqual((await shareInventory(share)).objects, [], 'nothing was uploaded');
});

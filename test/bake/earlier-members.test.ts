import { open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { SILENT_REPORTER } from '../../src/bake/bake-events.ts';
import { runBake } from '../../src/bake/run-bake.ts';
import { readManifest } from '../../src/image/manifest.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import {
  cliOutput,
  PROJECT_DIR,
  runBakeCli,
  SAMPLE_LAB_FILE,
  TEST_SOURCE_DATE_EPOCH,
} from '../helpers/bake-cli.ts';
import { bakeSampleLab } from '../helpers/baked-images.ts';
import { bakeLeftovers, contentOf, partitionImageFiles, snapshotTree } from '../helpers/output-tree.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * A bake lists the gzip members of every image it writes (<out>/.bake-members), and the next bake
 * copies those members instead of compressing their chunks again: a root change compresses only
 * the chunks it touched. A member whose file changed since is compressed again, never copied. The
 * output is byte for byte what a bake from scratch gives. The real tools run, without root.
 */

async function labWithLease(dir: string, lease: string): Promise<string> {
  const data = parse(await readFile(SAMPLE_LAB_FILE, 'utf8')) as { network: { dhcp: { lease: string } } };
  data.network.dhcp.lease = lease;
  const file = path.join(dir, `lab-${lease}.yaml`);
  await writeFile(file, stringify(data));
  return file;
}

/** The sha256 of every gzip image file the hosts in `outDir` hold. */
async function heldGzipFiles(outDir: string): Promise<string[]> {
  const held = new Set<string>();
  for (const host of await readdir(outDir)) {
    if (host.startsWith('.') || host.endsWith('.md')) continue;
    const manifest = await readManifest(path.join(outDir, host));
    if (!manifest) throw new Error(`${host} has no manifest`);
    for (const [name, file] of Object.entries(manifest.files))
      if (name.endsWith('.gz')) held.add(file.sha256);
  }
  return [...held].sort();
}

async function indexedFiles(outDir: string): Promise<string[]> {
  const names = await readdir(path.join(outDir, '.bake-members'));
  return names.map((name) => name.replace(/\.json$/, '')).sort();
}

test("a root change compresses only the chunks it touched, reusing the replaced image's members; a changed earlier file is not trusted; the bytes are a bake from scratch's", async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const baked = await bakeSampleLab(temp.path);
  t.deepEqual(await indexedFiles(baked.imagesDir), await heldGzipFiles(baked.imagesDir));

  const bakePi0 = async (lease: string) =>
    runBake({
      lab: await loadLab(await labWithLease(temp.path, lease), { projectDir: PROJECT_DIR }),
      projectDir: PROJECT_DIR,
      hosts: ['pi0'],
      cleanDir: baked.cleanDir,
      outDir: baked.imagesDir,
      dryRun: false,
      reporter: SILENT_REPORTER,
      pinnedTime: Number(TEST_SOURCE_DATE_EPOCH),
    });
  const sameAsFromScratch = async (lease: string) => {
    const fresh = path.join(temp.path, `fresh-${lease}`);
    const scratch = await runBakeCli([
      'pi0',
      '--lab',
      path.join(temp.path, `lab-${lease}.yaml`),
      '--clean',
      baked.cleanDir,
      '--out',
      fresh,
    ]);
    t.is(scratch.exitCode, 0, cliOutput(scratch));
    const [ours, theirs] = [
      contentOf(await snapshotTree(path.join(baked.imagesDir, 'pi0'))),
      contentOf(await snapshotTree(path.join(fresh, 'pi0'))),
    ];
    for (const file of await partitionImageFiles(path.join(fresh, 'pi0')))
      t.is(ours[file], theirs[file], `pi0/${file} (lease ${lease}) as a bake from scratch makes it`);
  };

  const changed = await bakePi0('12h');
  t.true(changed.ok);
  const { packed, compressed } = changed.stages.chunks;
  t.log(`chunks: ${compressed} of ${packed} compressed`);
  t.true(packed > 100, `the router's images hold ${packed} chunks`);
  // A lease in one file touches a few blocks: the file's, its inode's, the bitmaps'. (Without the
  // earlier members, this sample compresses 26: every chunk its own stream does not repeat.)
  t.true(compressed > 0 && compressed <= 6, `${compressed} of ${packed} chunks compressed`);
  await sameAsFromScratch('12h');
  t.deepEqual(
    await indexedFiles(baked.imagesDir),
    await heldGzipFiles(baked.imagesDir),
    "the replaced image's index is gone, the new one's is there",
  );

  // A byte of the router's root image changes behind pi-lab's back: its members are checked, the
  // changed one is compressed again, and the next image is still right.
  const root = (await partitionImageFiles(path.join(baked.imagesDir, 'pi0'))).find((name) =>
    name.includes('ext4'),
  );
  if (!root) throw new Error('pi0 has no ext4 image');
  const rootFile = path.join(baked.imagesDir, 'pi0', root);
  const handle = await open(rootFile, 'r+');
  await handle.write(Buffer.from([0x55]), 0, 1, Math.floor((await stat(rootFile)).size / 2));
  await handle.close();
  const afterTamper = await bakePi0('6h');
  t.true(afterTamper.ok);
  t.true(afterTamper.stages.chunks.compressed > 0);
  await sameAsFromScratch('6h');
  t.deepEqual(await bakeLeftovers(baked.imagesDir), []);
});

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import {
  cliOutput,
  parseJsonResult,
  runBakeCli,
  SAMPLE_LAB_FILE,
  statusByHost,
} from '../helpers/bake-cli.ts';
import { savedCleanImage, type SavedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import {
  bakeLeftovers,
  contentOf,
  identityOf,
  makeProjectCopy,
  partitionImageFiles,
  snapshotTree,
} from '../helpers/output-tree.ts';
import { readExt4String, readFatString, restorePartitionFiles } from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { assertFirstrunNames, NODE_HOSTS, readManifest, SAMPLE_HOSTS } from './sample-lab-expectations.ts';

/*
 * Incremental and reproducible baking, from the firstrun-8192-cm5 fixture. One baseline bake of the
 * sample lab; each test works on its own copy of it (cp -a), so they can run at once.
 */

const rootTest = skipUnlessRoot(test);

interface Baseline {
  readonly image: SavedCleanImage;
  readonly outDir: string;
}

const temps: TempDir[] = [];
let baseline: Promise<Baseline> | undefined;

async function tempDir(): Promise<TempDir> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp;
}

test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

function bakeBaseline(): Promise<Baseline> {
  baseline ??= (async () => {
    const image = await savedCleanImage('firstrun-8192-cm5');
    const outDir = path.join((await tempDir()).path, 'images');
    const result = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', image.dir, '--out', outDir]);
    if (result.exitCode !== 0) throw new Error(`baseline bake failed: ${cliOutput(result)}`);
    return { image, outDir };
  })();
  return baseline;
}

/** A private copy of the baseline output (cp -a keeps modes, times and the links between hosts). */
async function copyOfBaseline(): Promise<{ image: SavedCleanImage; outDir: string; work: string }> {
  const { image, outDir } = await bakeBaseline();
  const work = (await tempDir()).path;
  const copy = path.join(work, 'images');
  await runTool('cp', ['-a', outDir, copy]);
  return { image, outDir: copy, work };
}

interface LabData {
  hosts: Record<string, unknown>[];
}

/** The sample lab with `edit` applied, written to `dir`. */
async function editedLab(dir: string, edit: (lab: LabData) => void): Promise<string> {
  const data = parse(await readFile(SAMPLE_LAB_FILE, 'utf8')) as LabData;
  edit(data);
  const file = path.join(dir, 'lab.yaml');
  await writeFile(file, stringify(data));
  return file;
}

const inHost = (hosts: readonly string[]) => (name: string) =>
  hosts.some((host) => name.startsWith(`${host}/`));

rootTest('a re-bake with nothing changed reports every host unchanged and touches no file', async (t) => {
  const { image, outDir } = await copyOfBaseline();
  const before = await snapshotTree(outDir);
  const result = await runBakeCli([
    '--lab',
    SAMPLE_LAB_FILE,
    '--clean',
    image.dir,
    '--out',
    outDir,
    '--json',
  ]);
  t.is(result.exitCode, 0, cliOutput(result));
  const json = parseJsonResult(result);
  t.true(json.ok);
  t.deepEqual(statusByHost(result), {
    pi0: 'unchanged',
    pi1: 'unchanged',
    pi2: 'unchanged',
    pi3: 'unchanged',
  });
  for (const host of json.hosts)
    t.is(host.version, (await readManifest(path.join(outDir, host.host))).version);
  const after = await snapshotTree(outDir);
  const hostFiles = inHost(SAMPLE_HOSTS);
  t.deepEqual(identityOf(after, hostFiles), identityOf(before, hostFiles), 'same inodes and mtimes');
  t.deepEqual(contentOf(after), contentOf(before));
  t.deepEqual(await bakeLeftovers(outDir), []);
});

rootTest("changing pi3's MAC re-bakes the router (it lists the reservations) and nothing else", async (t) => {
  const { image, outDir, work } = await copyOfBaseline();
  const newMac = '02:00:5e:00:53:03';
  const lab = await editedLab(work, (data) => {
    const pi3 = data.hosts.find((host) => host.name === 'pi3');
    if (!pi3) throw new Error('no pi3 in the sample lab');
    pi3.mac = newMac;
  });
  const before = await snapshotTree(outDir);
  const result = await runBakeCli(['--lab', lab, '--clean', image.dir, '--out', outDir, '--json']);
  t.is(result.exitCode, 0, cliOutput(result));
  t.deepEqual(statusByHost(result), { pi0: 'baked', pi1: 'unchanged', pi2: 'unchanged', pi3: 'unchanged' });

  const after = await snapshotTree(outDir);
  const nodes = inHost(NODE_HOSTS);
  t.deepEqual(identityOf(after, nodes), identityOf(before, nodes), 'node images not rewritten');
  t.notDeepEqual(contentOf(after)['pi0/pi-lab-manifest.json'], contentOf(before)['pi0/pi-lab-manifest.json']);
  const scratch = await tempDir();
  const files = await restorePartitionFiles(path.join(outDir, 'pi0'), scratch.path);
  const dhcpHosts = (await readExt4String(files.root, 'etc/dnsmasq.d/lab.conf'))
    .split('\n')
    .filter((line) => line.startsWith('dhcp-host='));
  t.true(dhcpHosts.includes(`dhcp-host=${newMac},192.168.87.103,pi3`), dhcpHosts.join('\n'));
  t.false(
    dhcpHosts.some((line) => line.includes('d8:3a:dd:e9:d4:3e')),
    'the old MAC is gone',
  );
  t.deepEqual(await bakeLeftovers(outDir), []);
});

rootTest(
  "changing only the node recipe's config.txt line re-bakes the nodes and not the router",
  async (t) => {
    const image = await savedCleanImage('firstrun-8192-cm5');
    const work = (await tempDir()).path;
    const project = await makeProjectCopy(path.join(work, 'project'));
    const outDir = path.join(work, 'images');
    const args = ['--lab', SAMPLE_LAB_FILE, '--clean', image.dir, '--out', outDir, '--json'];
    const first = await runBakeCli(args, { projectDir: project });
    t.is(first.exitCode, 0, cliOutput(first));
    t.deepEqual(statusByHost(first), { pi0: 'baked', pi1: 'baked', pi2: 'baked', pi3: 'baked' });

    const nodeRecipe = path.join(project, 'recipes/node.yaml');
    const text = await readFile(nodeRecipe, 'utf8');
    t.true(text.includes('dtoverlay=disable-wifi'));
    await writeFile(nodeRecipe, text.replace('dtoverlay=disable-wifi', 'dtoverlay=disable-bt'));
    const before = await snapshotTree(outDir);
    const second = await runBakeCli(args, { projectDir: project });
    t.is(second.exitCode, 0, cliOutput(second));
    t.deepEqual(statusByHost(second), { pi0: 'unchanged', pi1: 'baked', pi2: 'baked', pi3: 'baked' });
    const after = await snapshotTree(outDir);
    const router = inHost(['pi0']);
    t.deepEqual(identityOf(after, router), identityOf(before, router), 'the router image is not rewritten');
    // The nodes' root files did not change: their root image is linked from the earlier bake, not cloned again.
    const rootInode = (snapshot: typeof after, host: string) =>
      snapshot[`${host}/sda2.ext4-ptcl-img.gz`]?.ino;
    for (const host of ['pi1', 'pi2', 'pi3'])
      t.is(rootInode(after, host), rootInode(before, 'pi1'), `${host}: the same root image file`);

    const scratch = await tempDir();
    const files = await restorePartitionFiles(path.join(outDir, 'pi2'), scratch.path);
    const config = await readFatString(files.boot, 'config.txt');
    t.true(config.endsWith('[all]\ndtoverlay=disable-bt\n'), config);
    t.false(config.includes('disable-wifi'), 'the old line is gone: the clean config.txt is the base');
  },
);

rootTest('adding pi4 is one line in the lab: it is baked, and the router lists it', async (t) => {
  const { image, outDir, work } = await copyOfBaseline();
  const lab = path.join(work, 'lab-with-pi4.yaml');
  const sample = await readFile(SAMPLE_LAB_FILE, 'utf8');
  const pi3Line = "  - { name: pi3, recipe: node, mac: 'd8:3a:dd:e9:d4:3e', ip: 192.168.87.103 }\n";
  t.true(sample.includes(pi3Line), 'the sample lab has one line per host');
  await writeFile(
    lab,
    sample.replace(
      pi3Line,
      `${pi3Line}  - { name: pi4, recipe: node, mac: '02:00:5e:00:53:04', ip: 192.168.87.104 }\n`,
    ),
  );
  const before = await snapshotTree(outDir);
  const result = await runBakeCli(['--lab', lab, '--clean', image.dir, '--out', outDir, '--json']);
  t.is(result.exitCode, 0, cliOutput(result));
  t.deepEqual(statusByHost(result), {
    pi0: 'baked',
    pi1: 'unchanged',
    pi2: 'unchanged',
    pi3: 'unchanged',
    pi4: 'baked',
  });
  const after = await snapshotTree(outDir);
  const nodes = inHost(NODE_HOSTS);
  t.deepEqual(identityOf(after, nodes), identityOf(before, nodes));

  const scratch = await tempDir();
  const pi4 = await restorePartitionFiles(path.join(outDir, 'pi4'), scratch.path);
  const cleanBoot = `${image.disk.path}@@${image.disk.boot.startSector * 512}`;
  assertFirstrunNames(
    t,
    await readFatString(pi4.boot, 'firstrun.sh'),
    await readFatString(cleanBoot, 'firstrun.sh'),
    'pi4',
  );
  t.is((await readManifest(path.join(outDir, 'pi4'))).host, 'pi4');
  t.true((await partitionImageFiles(path.join(outDir, 'pi4'))).length === 2);
  const pi0 = await restorePartitionFiles(path.join(outDir, 'pi0'), (await tempDir()).path);
  t.true(
    (await readExt4String(pi0.root, 'etc/dnsmasq.d/lab.conf'))
      .split('\n')
      .includes('dhcp-host=02:00:5e:00:53:04,192.168.87.104,pi4'),
  );
});

rootTest('two bakes of the same inputs into two directories are byte-identical', async (t) => {
  const { image, outDir: first } = await bakeBaseline();
  const second = path.join((await tempDir()).path, 'images');
  const result = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', image.dir, '--out', second]);
  t.is(result.exitCode, 0, cliOutput(result));
  const a = contentOf(await snapshotTree(first));
  const b = contentOf(await snapshotTree(second));
  delete a['.bake-cache.json'];
  delete b['.bake-cache.json'];
  t.deepEqual(Object.keys(b), Object.keys(a));
  for (const host of SAMPLE_HOSTS) {
    for (const name of await partitionImageFiles(path.join(first, host))) {
      t.is(b[`${host}/${name}`], a[`${host}/${name}`], `${host}/${name}`);
    }
    t.deepEqual(
      await readManifest(path.join(second, host)),
      await readManifest(path.join(first, host)),
      `${host} manifest`,
    );
  }
  t.deepEqual(b, a, 'every file: partition images, metadata files, manifests');
});

import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import { makeNpmProject, npmOutput, type NpmResult, runNpm } from '../helpers/npm-project.ts';
import { bakeLeftovers, contentOf, snapshotTree } from '../helpers/output-tree.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool, spawnTool } from '../helpers/spawn-tool.ts';
import { PROJECT_DIR } from '../helpers/bake-cli.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * Bad input through `npm run`, as a user meets it, with earlier images in images/: one clear answer
 * naming the culprit, exit 2, images/ exactly as it was and nothing half-written. The classes
 * here: a clean image Clonezilla could not restore, a damaged or missing import input, a lab
 * file that is a directory, a clean image on a read-only filesystem (must still bake: it is only
 * read). Serial: every case bakes into the same images/.
 */

const temps: TempDir[] = [];
test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

interface Project {
  readonly dir: string;
  readonly images: string;
  readonly clean: string;
  readonly disk: string;
}

let project: Promise<Project> | undefined;

/** A project whose images/ holds the imported sample clean image and a good bake of every host. */
function bakedProject(): Promise<Project> {
  project ??= (async () => {
    const dir = await makeNpmProject(path.join(await tempDir(), 'project'));
    const disk = await makeSampleDisk({
      path: path.join(await tempDir(), 'disk.img'),
      firstBoot: 'firstrun',
    });
    const imported = await runNpm(dir, ['-s', 'import', '--', disk.path]).result;
    if (imported.exitCode !== 0) throw new Error(`import failed: ${npmOutput(imported)}`);
    const baked = await runNpm(dir, ['-s', 'bake']).result;
    if (baked.exitCode !== 0) throw new Error(`bake failed: ${npmOutput(baked)}`);
    const images = path.join(dir, 'images');
    return { dir, images, clean: path.join(images, 'pi-img'), disk: disk.path };
  })();
  return project;
}

async function hostImages(images: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    Object.entries(contentOf(await snapshotTree(images))).filter(
      ([name]) => !name.startsWith('.') && !name.startsWith('pi-img/'),
    ),
  );
}

/** Runs `npm run -s ARGS` and checks the common part: exit 2, one error, images/ as it was. */
async function refused(t: ExecutionContext, args: readonly string[]): Promise<NpmResult> {
  const { dir, images } = await bakedProject();
  const before = await hostImages(images);
  const result = await runNpm(dir, ['-s', ...args]).result;
  t.is(result.exitCode, 2, npmOutput(result));
  t.is(result.stderr.match(/^error: /gm)?.length, 1, `one answer:\n${result.stderr}`);
  t.notRegex(result.stderr, /\.bake-work-|\.tmp-\d+|npm error/, 'no scratch paths, no npm error report');
  t.deepEqual(await hostImages(images), before, 'earlier host images byte-identical');
  t.deepEqual(await bakeLeftovers(images), [], 'no temporary files or lock');
  return result;
}

/** A copy of the clean image, changed by `damage`, for `--clean`. */
async function brokenClean(damage: (dir: string) => Promise<void>): Promise<string> {
  const { clean } = await bakedProject();
  const copy = path.join(await tempDir(), 'pi-img');
  await runTool('cp', ['-a', clean, copy]);
  await damage(copy);
  return copy;
}

const INCOMPLETE = /is not a complete Clonezilla image: `ocs-sr restoredisk` would fail on it/;

test.serial('a clean image without `parts`: refused before any write, naming the file', async (t) => {
  const clean = await brokenClean((dir) => rm(path.join(dir, 'parts')));
  const result = await refused(t, ['bake', '--', '--clean', clean]);
  t.regex(result.stderr, INCOMPLETE);
  t.regex(result.stderr, /`parts` is missing/);
  t.regex(result.stderr, /savedisk|npm run import/, 'says how to make a good one');
});

test.serial('a clean image whose files disagree: every problem at once', async (t) => {
  const clean = await brokenClean(async (dir) => {
    await writeFile(path.join(dir, 'parts'), 'sda1 sda2 sda3\n');
    await rm(path.join(dir, 'sda-pt.parted'));
    const mbr = await readFile(path.join(dir, 'sda-mbr'));
    mbr.writeUInt32LE(0xdeadbeef, 440);
    await writeFile(path.join(dir, 'sda-mbr'), mbr);
    await writeFile(path.join(dir, 'sda1.vfat-ptcl-img.gz'), 'not gzip at all');
  });
  const result = await refused(t, ['bake', '--', '--clean', clean]);
  t.regex(result.stderr, INCOMPLETE);
  t.regex(result.stderr, /\(4 problems\)|\(5 problems\)/);
  t.regex(result.stderr, /`parts` lists sda3/);
  t.regex(result.stderr, /`sda-pt\.parted` is missing/);
  t.regex(result.stderr, /`sda-mbr` holds disk identifier 0xdeadbeef/);
  t.regex(result.stderr, /sda1\.vfat-ptcl-img\.gz is not gz-compressed/);
});

test.serial('import of a truncated .xz: one line saying so and what to do', async (t) => {
  const { disk } = await bakedProject();
  const xz = path.join(await tempDir(), 'disk.img.xz');
  await runTool('bash', ['-c', 'xz -0 -T1 -c -- "$1" > "$2"', 'bash', disk, xz]);
  await truncate(xz, Math.floor((await stat(xz)).size / 2));
  const result = await refused(t, ['import', '--', xz, '--name', 'from-xz']);
  t.regex(
    result.stderr,
    /^error: .*disk\.img\.xz is damaged or incomplete \(xz: unexpected end of input\): download or copy it again/m,
  );
  t.notRegex(result.stderr, /bash|dd of=|pipefail/, 'no raw pipeline');
  t.false((await readdir((await bakedProject()).images)).includes('from-xz'));
});

test.serial(
  'import of a file that does not exist: reported as missing, even when the name is taken',
  async (t) => {
    const missing = path.join(await tempDir(), 'no-such-disk.img');
    const result = await refused(t, ['import', '--', missing]);
    t.regex(result.stderr, /No disk image at .*no-such-disk\.img: the file does not exist/);
    t.notRegex(result.stderr, /already exists/);
  },
);

test.serial('a lab file that is a directory: named, exit 2', async (t) => {
  const dir = path.join(await tempDir(), 'lab.yaml');
  await mkdir(dir);
  const result = await refused(t, ['bake', '--', '--lab', dir]);
  t.true(result.stderr.includes(dir), result.stderr);
  t.regex(result.stderr, /is a directory/);
});

skipUnlessRoot(test.serial)(
  'a clean image on a read-only filesystem is only read: the bake works',
  async (t) => {
    const { dir } = await bakedProject();
    const clean = await brokenClean(() => Promise.resolve());
    // Immutable files: not even root may write them, as on a read-only mount.
    await runTool('chattr', ['-R', '+i', clean]);
    t.teardown(() => runTool('chattr', ['-R', '-i', clean]).then(() => undefined));
    const out = path.join(await tempDir(), 'images');
    const result = await runNpm(dir, ['-s', 'bake', '--', 'pi0', 'pi1', '--clean', clean, '--out', out])
      .result;
    t.is(result.exitCode, 0, npmOutput(result));
    t.deepEqual((await readdir(out)).filter((name) => !name.startsWith('.')).sort(), ['pi0', 'pi1']);
  },
);

test.serial(
  'a recipe template naming a missing value: file, line and name, exit 2, before any write',
  async (t) => {
    const { dir } = await bakedProject();
    const template = path.join(dir, 'overlays/router/rootfs/etc/dnsmasq.d/lab.conf.mustache');
    const original = await readFile(template, 'utf8');
    await writeFile(template, `${original}domain={{network.domain}}\n`);
    t.teardown(() => writeFile(template, original));
    const result = await refused(t, ['bake']);
    t.regex(result.stderr, /lab\.conf\.mustache:\d+: \{\{network\.domain\}\}/);
  },
);

/** The README's `--json` examples: every line of a code block that pipes `--json` into jq. */
async function readmeJsonExamples(): Promise<string[]> {
  const readme = await readFile(path.join(PROJECT_DIR, 'README.md'), 'utf8');
  return readme.split('\n').filter((line) => /^npm run .*--json \| jq /.test(line));
}

test.serial("the README's --json examples work exactly as written", async (t) => {
  const { dir } = await bakedProject();
  const examples = await readmeJsonExamples();
  t.true(examples.length >= 3, examples.join('\n'));
  for (const example of examples) {
    const result = await spawnTool('bash', ['-o', 'pipefail', '-c', example], {
      cwd: dir,
      timeoutMs: 120_000,
    });
    t.is(result.exitCode, 0, `${example}\n${result.stderr}`);
    t.regex(result.stdout.toString('utf8'), /\S/, `${example} printed something`);
  }
});

test.serial('bake --json: the fields the README lists, numbers rounded', async (t) => {
  const { dir } = await bakedProject();
  const readme = await readFile(path.join(PROJECT_DIR, 'README.md'), 'utf8');
  const documented = /`--json` prints `\{ ok, dryRun, hosts: \[\{ ([\w, ]+) \}\], stages \}`/.exec(
    readme.replace(/\n\s*/g, ' '),
  );
  t.truthy(documented, 'the README documents the bake JSON');
  const fields = new Set((documented?.[1] ?? '').split(', '));
  const out = path.join(await tempDir(), 'images');
  const result = await runNpm(dir, ['-s', 'bake', '--', 'pi1', '--out', out, '--json']).result;
  t.is(result.exitCode, 0, npmOutput(result));
  t.notRegex(result.stdout, /\d\.\d{4,}/, 'no number with more than three decimals');
  const parsed = JSON.parse(result.stdout) as {
    ok: boolean;
    dryRun: boolean;
    hosts: Record<string, unknown>[];
    stages: Record<string, unknown>;
  };
  t.deepEqual(Object.keys(parsed).sort(), ['dryRun', 'hosts', 'ok', 'stages']);
  t.true(
    Object.values(parsed.stages).every((seconds) => typeof seconds === 'number' && seconds >= 0),
    JSON.stringify(parsed.stages),
  );
  t.true('clone' in parsed.stages && 'compress' in parsed.stages, 'a bake that clones says so');
  for (const host of parsed.hosts)
    for (const key of Object.keys(host)) t.true(fields.has(key), `${key} is documented in the README`);
});

test.serial(
  'images lists an image whose host left the lab; --remove-leftovers removes only it',
  async (t) => {
    const { dir, images } = await bakedProject();
    const lab = path.join(await tempDir(), 'lab-with-pi9.yaml');
    const sample = await readFile(path.join(dir, 'recipes/lab.yaml'), 'utf8');
    await writeFile(
      lab,
      sample.replace(
        /^hosts:\n/m,
        'hosts:\n  - { name: pi9, recipe: node, mac: "d8:3a:dd:00:00:09", ip: 192.168.87.109 }\n',
      ),
    );
    const baked = await runNpm(dir, ['-s', 'bake', '--', 'pi9', '--lab', lab]).result;
    t.is(baked.exitCode, 0, npmOutput(baked));
    const before = await hostImages(images);

    const listed = await runNpm(dir, ['-s', 'images', '--', '--local', '--json']).result;
    t.is(listed.exitCode, 0, npmOutput(listed));
    const rows = (JSON.parse(listed.stdout) as { images: { host: string; state: string }[] }).images;
    t.deepEqual(
      rows.map((row) => `${row.host} ${row.state}`),
      ['pi0 baked', 'pi1 baked', 'pi2 baked', 'pi3 baked', 'pi9 left the lab'],
    );
    t.true((await readdir(images)).includes('pi9'), 'listing removes nothing');

    const removed = await runNpm(dir, ['-s', 'images', '--', '--local', '--remove-leftovers']).result;
    t.is(removed.exitCode, 0, npmOutput(removed));
    t.regex(removed.stderr, /removed .*images\/pi9 \(pi9 left the lab\)/);
    t.false((await readdir(images)).includes('pi9'));
    const after = await hostImages(images);
    t.deepEqual(
      after,
      Object.fromEntries(
        Object.entries(before).filter(([name]) => name !== 'pi9' && !name.startsWith('pi9/')),
      ),
      'the other hosts and the clean image untouched',
    );
    t.deepEqual(await bakeLeftovers(images), [], 'no lock left');
  },
);

skipUnlessRoot(test.serial)(
  'a disk that fills up during a bake: one clear answer, earlier images intact, nothing left',
  async (t) => {
    const { dir, images } = await bakedProject();
    const mount = path.join(await tempDir(), 'small-disk');
    await mkdir(mount);
    const used = Number((await runTool('du', ['-sb', path.join(images, 'pi1')])).toString().split('\t')[0]);
    // Room for pi1's image and a little more: not for another host's.
    await runTool('mount', ['-t', 'tmpfs', '-o', `size=${used + 2 * 1024 * 1024}`, 'pi-lab-test', mount]);
    t.teardown(() => runTool('umount', ['-l', mount]).then(() => undefined));
    await runTool('cp', ['-a', path.join(images, 'pi1'), path.join(images, '.bake-cache.json'), mount]);
    const before = await hostImages(mount);

    const result = await runNpm(dir, ['-s', 'bake', '--', 'pi0', 'pi1', 'pi2', '--out', mount]).result;
    t.is(result.exitCode, 2, npmOutput(result));
    t.is(result.stderr.match(/^error: /gm)?.length, 1, `one answer:\n${result.stderr}`);
    t.regex(result.stderr, new RegExp(`No space left on the disk holding ${mount}`));
    t.regex(result.stderr, /Free some space there, or bake into another directory with --out/);
    t.deepEqual(await hostImages(mount), before, "pi1's image byte-identical");
    t.deepEqual(await bakeLeftovers(mount), [], 'no temporary files or lock');
  },
);

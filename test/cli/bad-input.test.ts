import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parse, stringify } from 'yaml';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import {
  cliOutput,
  type CliResult,
  PROJECT_DIR,
  runBakeCli,
  runImportCli,
  SAMPLE_LAB_FILE,
} from '../helpers/bake-cli.ts';
import { makeProjectCopy } from '../helpers/output-tree.ts';
import { readFatString } from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * Bad input through the real CLI: exit 2, a message that says what is wrong and how to fix it, and
 * nothing written (the --out directory is never created). No root needed: the clean images are
 * sample disks imported with `npm run import`.
 */

const temps: TempDir[] = [];

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

let goodImage: Promise<string> | undefined;

/** A valid clean image (sample disk → npm run import), so that each test fails for its own reason only. */
function validCleanImage(): Promise<string> {
  goodImage ??= (async () => {
    const dir = await tempDir();
    const disk = await makeSampleDisk({ path: path.join(dir, 'disk.img'), firstBoot: 'firstrun' });
    const result = await runImportCli([disk.path, '--name', 'pi-img', '--out', path.join(dir, 'clean')]);
    if (result.exitCode !== 0) throw new Error(`import failed: ${cliOutput(result)}`);
    return path.join(dir, 'clean/pi-img');
  })();
  return goodImage;
}

/** Runs the bake into a fresh --out path and checks the common part: exit 2, nothing created. */
async function bakeRefused(
  t: ExecutionContext,
  args: readonly string[],
  env?: Record<string, string>,
): Promise<CliResult> {
  const outDir = path.join(await tempDir(), 'images');
  const result = await runBakeCli([...args, '--out', outDir], env ? { env } : {});
  t.is(result.exitCode, 2, cliOutput(result));
  t.false(
    await stat(outDir).then(
      () => true,
      () => false,
    ),
    'the --out directory was not created',
  );
  t.is(result.stdout, '', 'no summary table for bad input');
  return result;
}

interface LabData {
  network: Record<string, unknown> & { dhcp: Record<string, unknown> };
  hosts: Record<string, unknown>[];
}

async function writeLab(edit: (lab: LabData) => void): Promise<string> {
  const data = parse(await readFile(SAMPLE_LAB_FILE, 'utf8')) as LabData;
  edit(data);
  const file = path.join(await tempDir(), 'lab.yaml');
  await writeFile(file, stringify(data));
  return file;
}

test('a lab file breaking several rules: every problem, with its place, in one message', async (t) => {
  const clean = await validCleanImage();
  const lab = await writeLab((data) => {
    data.network.dhcp = { start: '192.168.87.99', end: '192.168.87.11', lease: '24h' };
    const pi3 = data.hosts[3];
    if (!pi3) throw new Error('sample lab without hosts[3]');
    pi3.name = 'pi2';
  });
  const result = await bakeRefused(t, ['--lab', lab, '--clean', clean]);
  t.regex(
    result.stderr,
    new RegExp(`${lab.replaceAll('.', '\\.')} is not a valid lab file \\(\\d+ problems\\)`),
  );
  t.regex(result.stderr, /hosts\[3\]\.name: repeats the name of hosts\[2\] \(got "pi2"\)/);
  t.regex(result.stderr, /network\.dhcp\.start: comes after network\.dhcp\.end \(192\.168\.87\.11\)/);
  t.regex(result.stderr, /swap start and end/);
});

test('a lab file that is not YAML: named, exit 2', async (t) => {
  const clean = await validCleanImage();
  const lab = path.join(await tempDir(), 'lab.yaml');
  await writeFile(lab, 'network: [unclosed\nhosts: {\n');
  const result = await bakeRefused(t, ['--lab', lab, '--clean', clean]);
  t.true(result.stderr.includes(lab), result.stderr);
  t.regex(result.stderr, /not a valid lab file/);
});

test('an unknown host name on the command line', async (t) => {
  const clean = await validCleanImage();
  const result = await bakeRefused(t, ['pi1', 'pi9', '--lab', SAMPLE_LAB_FILE, '--clean', clean]);
  t.regex(result.stderr, /Cannot bake pi1, pi9/);
  t.regex(result.stderr, /pi9: not in .*lab\.yaml \(hosts: pi0, pi1, pi2, pi3, data1\)/);
});

test('a host without a recipe named on the command line', async (t) => {
  const clean = await validCleanImage();
  const result = await bakeRefused(t, ['data1', '--lab', SAMPLE_LAB_FILE, '--clean', clean]);
  t.regex(result.stderr, /data1: has no recipe in .*lab\.yaml; it is an address reservation only/);
});

test('--clean pointing at a directory that does not exist', async (t) => {
  const missing = path.join(await tempDir(), 'no-such-image');
  const result = await bakeRefused(t, ['--lab', SAMPLE_LAB_FILE, '--clean', missing]);
  t.true(result.stderr.includes(`No Clonezilla image at ${missing}.`), result.stderr);
  t.regex(result.stderr, /npm run import/, 'says how to make one');
});

test('--clean pointing at a directory that is not a Clonezilla image', async (t) => {
  const notImage = path.join(PROJECT_DIR, 'overlays');
  const result = await bakeRefused(t, ['--lab', SAMPLE_LAB_FILE, '--clean', notImage]);
  t.true(result.stderr.includes(`${notImage} is not a Clonezilla disk image`), result.stderr);
  t.regex(result.stderr, /savedisk/);
});

test('an image without first-boot files (no firstrun.sh, no systemd.run in cmdline.txt)', async (t) => {
  const dir = await tempDir();
  const disk = await makeSampleDisk({ path: path.join(dir, 'disk.img'), firstBoot: 'firstrun' });
  const boot = `${disk.path}@@${disk.boot.startSector * 512}`;
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  await runTool('mdel', ['-i', boot, '::/firstrun.sh'], { env });
  const cmdline = await readFatString(boot, 'cmdline.txt');
  const stripped = cmdline.replace(/ systemd\.run=\S+/, '');
  t.not(stripped, cmdline);
  const local = path.join(dir, 'cmdline.txt');
  await writeFile(local, stripped);
  await runTool('mcopy', ['-o', '-i', boot, local, '::/cmdline.txt'], { env });
  const imported = await runImportCli([
    disk.path,
    '--name',
    'no-firstboot',
    '--out',
    path.join(dir, 'clean'),
  ]);
  t.is(imported.exitCode, 0, cliOutput(imported));

  const clean = path.join(dir, 'clean/no-firstboot');
  const result = await bakeRefused(t, ['--lab', SAMPLE_LAB_FILE, '--clean', clean]);
  t.true(result.stderr.includes(clean), result.stderr);
  t.regex(result.stderr, /has no first-boot customisation .*\(found no first-boot files\)/);
  t.regex(result.stderr, /Imager/);
});

test('a missing tool (PI_LAB_TOOL_PATH without partclone): names the Debian package and the apt-get command', async (t) => {
  const clean = await validCleanImage();
  const tools = path.join(await tempDir(), 'tools');
  await mkdir(tools);
  const seen = new Set<string>();
  for (const dir of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.startsWith('partclone.') || seen.has(name)) continue;
      seen.add(name);
      await symlink(path.join(dir, name), path.join(tools, name));
    }
  }
  const result = await bakeRefused(t, ['--lab', SAMPLE_LAB_FILE, '--clean', clean], {
    PI_LAB_TOOL_PATH: tools,
  });
  t.regex(result.stderr, /Missing host tools: .*partclone\.vfat/);
  t.regex(result.stderr, /partclone\.ext4/);
  t.regex(result.stderr, /apt-get install partclone\b/);
});

test('an unknown option: usage, exit 2', async (t) => {
  const result = await bakeRefused(t, ['--colour']);
  t.regex(result.stderr, /Unknown option '--colour'/);
  t.regex(result.stderr, /Usage: npm run bake/);
});

skipUnlessRoot(test)('an overlay file the baking user cannot read: named with the fix, exit 2', async (t) => {
  // Root reads every file, so the bake runs as nobody over a project copy it may enter.
  const dir = await tempDir();
  await chmod(dir, 0o755);
  const project = await makeProjectCopy(path.join(dir, 'project'));
  await runTool('chmod', ['-R', 'a+rX', project]);
  const secret = path.join(project, 'overlays/common/rootfs/etc/ssh/sshd_config.d/10-key-only.conf');
  await chmod(secret, 0o600);
  const outDir = path.join(dir, 'images');
  const result = await runBakeCli(
    [
      'pi1',
      '--lab',
      path.join(project, 'recipes/lab.yaml'),
      '--clean',
      path.join(dir, 'none'),
      '--out',
      outDir,
    ],
    { projectDir: project, asUser: { uid: 65534, gid: 65534 } },
  );
  t.is(result.exitCode, 2, cliOutput(result));
  t.regex(result.stderr, /rootfs\/etc\/ssh\/sshd_config\.d\/10-key-only\.conf: cannot be read \(EACCES\)/);
  t.regex(result.stderr, /make it readable by the user who bakes/);
  t.false(
    await stat(outDir).then(
      () => true,
      () => false,
    ),
    'nothing written',
  );
});

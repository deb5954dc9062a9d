import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import {
  cliOutput,
  type JsonHostResult,
  parseJsonResult,
  runBakeCli,
  runImportCli,
  SAMPLE_LAB_FILE,
  statusByHost,
} from '../helpers/bake-cli.ts';
import { snapshotTree, tmpdirLeftovers } from '../helpers/output-tree.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * --dry-run says per host which files and partitions would change and writes nothing; --json prints
 * one JSON document with a result per host. The clean image is a sample disk imported with
 * `npm run import` (no root needed).
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

let cleanImage: Promise<string> | undefined;

function sampleCleanImage(): Promise<string> {
  cleanImage ??= (async () => {
    const dir = await tempDir();
    const disk = await makeSampleDisk({
      path: path.join(dir, 'disk.img'),
      firstBoot: 'firstrun',
      bootStartSector: 8192,
    });
    const result = await runImportCli([disk.path, '--name', 'pi-img', '--out', path.join(dir, 'clean')]);
    if (result.exitCode !== 0) throw new Error(`import failed: ${cliOutput(result)}`);
    return path.join(dir, 'clean/pi-img');
  })();
  return cleanImage;
}

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );

function hostResult(hosts: readonly JsonHostResult[], name: string): JsonHostResult {
  const found = hosts.find((host) => host.host === name);
  if (!found) throw new Error(`no result for ${name} in ${JSON.stringify(hosts)}`);
  return found;
}

test('--dry-run lists per host the partitions and files that would change, and writes nothing', async (t) => {
  const clean = await sampleCleanImage();
  const outDir = path.join(await tempDir(), 'images');
  const result = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', clean, '--out', outDir, '--dry-run']);
  t.is(result.exitCode, 0, cliOutput(result));
  t.false(await exists(outDir), 'the --out directory was not created');
  t.deepEqual(await tmpdirLeftovers(result.pid), [], 'no scratch dir left in the temp dir');

  const sections = new Map(
    result.stdout
      .split(/\n(?=pi\d \()/)
      .slice(1)
      .map((block) => [block.slice(0, block.indexOf(' ')), block.split('\n').slice(1)] as const),
  );
  t.deepEqual([...sections.keys()], ['pi0', 'pi1', 'pi2', 'pi3'], result.stdout);
  for (const [host, lines] of sections) {
    const text = lines.join('\n');
    t.regex(text, /^ {2}sda1 \(boot, vfat\): re-cloned$/m, `${host}:\n${text}`);
    t.regex(text, new RegExp(`^ {4}/firstrun\\.sh {2}\\(\\d+ bytes\\) .*${host}`, 'm'), `${host}:\n${text}`);
    t.regex(text, /^ {4}\/pi-lab-image\.json {2}\(\d+ bytes\)/m);
    t.regex(text, /^ {2}sda2 \(root, ext4\): re-cloned/m);
    t.regex(text, /^ {4}\/etc\/ssh\/sshd_config\.d\/10-key-only\.conf {2}0644 0:0 \(\d+ bytes\)$/m);
    if (host === 'pi0') {
      t.notRegex(text, /\/config\.txt/, 'the router recipe adds no config.txt line');
      t.regex(text, /^ {4}\/etc\/NetworkManager\/system-connections\/lab-lan\.nmconnection {2}0600 0:0/m);
      t.regex(text, /^ {4}\/etc\/dnsmasq\.d\/lab\.conf {2}0644 0:0/m);
      t.regex(text, /^ {4}\/usr\/local\/sbin\/lab-router-setup {2}0755 0:0/m);
      t.regex(
        text,
        /^ {4}\/etc\/systemd\/system\/multi-user\.target\.wants\/lab-router-setup\.service -> \/etc\/systemd\/system\/lab-router-setup\.service$/m,
      );
    } else {
      t.regex(text, /^ {4}\/config\.txt {2}\(\d+ bytes\) .*dtoverlay=disable-wifi/m);
      t.notRegex(text, /dnsmasq/, `${host} gets no router file`);
    }
  }
});

test('--dry-run --json: one JSON document, every host "planned" with its changes; nothing written', async (t) => {
  const clean = await sampleCleanImage();
  const outDir = path.join(await tempDir(), 'images');
  const result = await runBakeCli([
    '--lab',
    SAMPLE_LAB_FILE,
    '--clean',
    clean,
    '--out',
    outDir,
    '--dry-run',
    '--json',
  ]);
  t.is(result.exitCode, 0, cliOutput(result));
  const json = parseJsonResult(result);
  t.like(json, { ok: true, dryRun: true });
  t.deepEqual(statusByHost(result), { pi0: 'planned', pi1: 'planned', pi2: 'planned', pi3: 'planned' });
  for (const host of json.hosts) {
    t.regex(host.version ?? '', new RegExp(`^${host.host}-[0-9a-f]{12}$`));
    t.true(
      (host.changes ?? []).some((line) => line.includes('/firstrun.sh')),
      `${host.host}: ${String(host.changes)}`,
    );
  }
  t.false(await exists(outDir));
  t.deepEqual(await tmpdirLeftovers(result.pid), []);
});

test('--json of a real bake, then of a re-bake and a dry run: statuses and versions match the manifests', async (t) => {
  const clean = await sampleCleanImage();
  const work = await tempDir();
  const outDir = path.join(work, 'images');
  const args = ['pi1', 'pi0', '--lab', SAMPLE_LAB_FILE, '--clean', clean, '--out', outDir, '--json'];

  const planned = parseJsonResult(await runBakeCli([...args, '--dry-run']));
  const baked = await runBakeCli(args);
  t.is(baked.exitCode, 0, cliOutput(baked));
  const json = parseJsonResult(baked);
  t.like(json, { ok: true, dryRun: false });
  t.deepEqual(json.hosts.map((host) => host.host).sort(), ['pi0', 'pi1']);
  for (const name of ['pi0', 'pi1']) {
    const host = hostResult(json.hosts, name);
    t.is(host.status, 'baked');
    t.deepEqual(host.partitions, { sda1: 'rebaked', sda2: 'rebaked' });
    const manifest = JSON.parse(await readFile(path.join(outDir, name, 'pi-lab-manifest.json'), 'utf8')) as {
      version: string;
    };
    t.is(host.version, manifest.version);
    t.is(hostResult(planned.hosts, name).version, manifest.version, 'the dry run announced the same version');
  }

  const before = await snapshotTree(outDir);
  const again = await runBakeCli([...args, '--dry-run']);
  t.is(again.exitCode, 0, cliOutput(again));
  t.deepEqual(statusByHost(again), { pi0: 'unchanged', pi1: 'unchanged' });
  t.deepEqual(await snapshotTree(outDir), before, 'a dry run writes nothing, not even the cache');

  const lab = path.join(work, 'lab.yaml');
  await writeFile(lab, (await readFile(SAMPLE_LAB_FILE, 'utf8')).replace('lease: 24h', 'lease: 12h'));
  const changed = await runBakeCli([
    'pi1',
    'pi0',
    '--lab',
    lab,
    '--clean',
    clean,
    '--out',
    outDir,
    '--json',
    '--dry-run',
  ]);
  t.is(changed.exitCode, 0, cliOutput(changed));
  t.deepEqual(
    statusByHost(changed),
    { pi0: 'planned', pi1: 'unchanged' },
    'only the router renders the lease',
  );
  t.true(
    (hostResult(parseJsonResult(changed).hosts, 'pi0').changes ?? []).some((line) =>
      line.includes('/etc/dnsmasq.d/lab.conf'),
    ),
  );
  t.deepEqual(await snapshotTree(outDir), before);
});

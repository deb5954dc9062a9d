import path from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { cliOutput, runBakeCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { savedCleanImage, type SavedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import { checkAllPartitionImages, readFatString, restorePartitionFiles } from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import {
  type ImageMarker,
  NODE_CONFIG_LINE,
  PLACEHOLDER,
  readManifest,
  SAMPLE_HOSTS,
} from './sample-lab-expectations.ts';

/*
 * The sample lab baked from the cloud-init-16384-all fixture (Imager's cloud-init form: user-data,
 * meta-data, `ds=nocloud;i=…` in cmdline.txt; config.txt ends in [all]). Fast checks: partclone
 * restores each partition image to a file, mtools reads it.
 */

const rootTest = skipUnlessRoot(test);

interface Baked {
  readonly image: SavedCleanImage;
  readonly outDir: string;
}

let baking: Promise<Baked> | undefined;
const temps: TempDir[] = [];

function bakeSampleLab(): Promise<Baked> {
  baking ??= (async () => {
    const image = await savedCleanImage('cloud-init-16384-all');
    const temp = await makeTempDir();
    temps.push(temp);
    const outDir = path.join(temp.path, 'images');
    const result = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', image.dir, '--out', outDir]);
    if (result.exitCode !== 0) throw new Error(`bake failed: ${cliOutput(result)}`);
    return { image, outDir };
  })();
  return baking;
}

test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

const INSTANCE_ID = /^instance-id: (\S+)$/m;
const CMDLINE_ID = /(?:^| )ds=nocloud;i=([^;\s]+)(?: |$)/;

rootTest(
  'each host gets its hostname and its own instance-id, the same in meta-data and cmdline.txt',
  async (t) => {
    const { image, outDir } = await bakeSampleLab();
    const cleanBoot = `${image.disk.path}@@${image.disk.boot.startSector * 512}`;
    const clean = {
      userData: await readFatString(cleanBoot, 'user-data'),
      metaData: await readFatString(cleanBoot, 'meta-data'),
      cmdline: await readFatString(cleanBoot, 'cmdline.txt'),
      networkConfig: await readFatString(cleanBoot, 'network-config'),
    };
    t.regex(
      clean.userData,
      new RegExp(`^hostname: ${PLACEHOLDER}$`, 'm'),
      'the fixture is what Imager writes',
    );
    const cleanId = INSTANCE_ID.exec(clean.metaData)?.[1];
    t.truthy(cleanId);
    t.is(CMDLINE_ID.exec(clean.cmdline)?.[1], cleanId);

    const ids = new Map<string, string>();
    for (const host of SAMPLE_HOSTS) {
      const work = await makeTempDir();
      try {
        const files = await restorePartitionFiles(path.join(outDir, host), work.path);
        const userData = await readFatString(files.boot, 'user-data');
        const metaData = await readFatString(files.boot, 'meta-data');
        const cmdline = await readFatString(files.boot, 'cmdline.txt');

        t.regex(userData, /^#cloud-config\n/, `${host}: user-data keeps its header`);
        t.regex(userData, new RegExp(`^hostname: ${host}$`, 'm'), `${host}: user-data`);
        t.deepEqual(
          parse(userData),
          { ...(parse(clean.userData) as object), hostname: host },
          `${host}: only the hostname changed`,
        );

        const id = INSTANCE_ID.exec(metaData)?.[1];
        if (!id) {
          t.fail(`${host}: meta-data has no instance-id:\n${metaData}`);
          continue;
        }
        t.not(id, cleanId, `${host}: a new instance-id, so cloud-init runs again`);
        t.is(metaData, clean.metaData.replace(INSTANCE_ID, `instance-id: ${id}`), `${host}: meta-data`);
        t.is(CMDLINE_ID.exec(cmdline)?.[1], id, `${host}: cmdline.txt names the instance-id of meta-data`);
        t.false(cmdline.includes('\n'), `${host}: cmdline.txt is one line without a trailing newline`);
        t.is(
          cmdline,
          clean.cmdline.replace(`;i=${cleanId ?? ''}`, `;i=${id}`),
          `${host}: nothing else in cmdline.txt`,
        );
        ids.set(host, id);

        for (const [name, text] of [
          ['user-data', userData],
          ['meta-data', metaData],
          ['cmdline.txt', cmdline],
        ] as const) {
          t.false(text.toLowerCase().includes(PLACEHOLDER), `${host}: no "${PLACEHOLDER}" in ${name}`);
        }
        t.is(await readFatString(files.boot, 'network-config'), clean.networkConfig);
        const manifest = await readManifest(path.join(outDir, host));
        t.like(JSON.parse(await readFatString(files.boot, 'pi-lab-image.json')) as ImageMarker, {
          host,
          version: manifest.version,
        });
      } finally {
        await work.remove();
      }
    }
    t.is(new Set(ids.values()).size, SAMPLE_HOSTS.length, `unique instance-ids: ${[...ids].join(' ')}`);
  },
);

rootTest('config.txt that ends in [all] gets the line once and no second [all] header', async (t) => {
  const { image, outDir } = await bakeSampleLab();
  const cleanConfig = await readFatString(
    `${image.disk.path}@@${image.disk.boot.startSector * 512}`,
    'config.txt',
  );
  t.true(cleanConfig.endsWith('[all]\n'), 'the fixture ends in [all]');
  const headers = (text: string): number => text.split('\n').filter((line) => line.trim() === '[all]').length;
  for (const host of SAMPLE_HOSTS) {
    const work = await makeTempDir();
    try {
      const files = await restorePartitionFiles(path.join(outDir, host), work.path);
      const config = await readFatString(files.boot, 'config.txt');
      if (host === 'pi0') {
        t.is(config, cleanConfig, 'the router recipe adds no line');
        continue;
      }
      t.is(config, `${cleanConfig}${NODE_CONFIG_LINE}\n`, `${host}: config.txt`);
      t.is(headers(config), headers(cleanConfig), `${host}: no extra [all]`);
      t.is(config.split('\n').filter((line) => line === NODE_CONFIG_LINE).length, 1);
    } finally {
      await work.remove();
    }
  }
});

rootTest(
  'every partition image of every baked host passes partclone.chkimg (cloud-init fixture)',
  async (t) => {
    const { outDir } = await bakeSampleLab();
    const logs = await makeTempDir();
    t.teardown(() => logs.remove());
    for (const host of SAMPLE_HOSTS) {
      const checked = await checkAllPartitionImages(path.join(outDir, host), logs.path);
      t.is(checked.length, 2);
      for (const result of checked) t.true(result.ok, `${host} ${result.files.join(' ')}: ${result.report}`);
    }
  },
);

import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { cliOutput, runCiStep, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { bakeNodeVariant, bakeSampleLab } from '../helpers/baked-images.ts';
import { currentImage } from '../helpers/share-check.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * The workflow's steps, run locally as the README says: bake, report against the share, publish;
 * then a recipe change reported per host with old → new hashes. The share is a local directory.
 */

test('ci steps: bake, report against the share, publish; a recipe change is reported per host', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const lab = await bakeSampleLab(temp.path);
  const share = path.join(temp.path, 'share');
  await mkdir(share);
  const reportDir = path.join(temp.path, 'ci-out');
  const common = [
    '--lab',
    SAMPLE_LAB_FILE,
    '--clean',
    lab.cleanDir,
    '--share',
    share,
    '--report-dir',
    reportDir,
  ];

  const bake = await runCiStep('bake', [...common, '--out', lab.imagesDir]);
  t.is(bake.exitCode, 0, cliOutput(bake));
  const bakeJson = JSON.parse(await readFile(path.join(reportDir, 'bake.json'), 'utf8')) as { ok: boolean };
  t.true(bakeJson.ok);

  const first = await runCiStep('report', [...common, '--out', lab.imagesDir]);
  t.is(first.exitCode, 0, cliOutput(first));
  t.regex(first.stdout, /\| pi1 \| \(none\) \| pi1-[0-9a-f]{12} \|/);
  t.is(await readFile(path.join(reportDir, 'report.md'), 'utf8'), first.stdout);

  const publish = await runCiStep('publish', [...common, '--out', lab.imagesDir]);
  t.is(publish.exitCode, 0, cliOutput(publish));
  const published = (await currentImage(share, 'pi1')).version;

  const variant = path.join(temp.path, 'images-variant');
  await bakeNodeVariant(lab, path.join(temp.path, 'project'), variant, 'dtoverlay=disable-bt');
  const report = await runCiStep('report', [...common, '--out', variant], {
    env: { GITHUB_STEP_SUMMARY: path.join(temp.path, 'summary.md') },
  });
  t.is(report.exitCode, 0, cliOutput(report));
  t.regex(report.stdout, /\| pi0 \| (pi0-[0-9a-f]{12}) \| \1 \| unchanged \|/);
  t.regex(report.stdout, new RegExp(`### pi1: ${published} → pi1-[0-9a-f]{12}`));
  t.regex(
    report.stdout,
    /\| `sda1:\/config\.txt` \| sha256:[0-9a-f]{12} 0644 0:0 \| sha256:[0-9a-f]{12} 0644 0:0 \|/,
  );
  t.regex(report.stdout, /\| `sda1 \(rebaked\)` \| [0-9a-f]{12} \| [0-9a-f]{12} \|/);
  t.regex(report.stdout, /\| `recipe` \| node [0-9a-f]{12} \| node [0-9a-f]{12} \|/);
  t.notRegex(report.stdout, /`sda2/, 'the root image is the same: not listed');
  t.is(await readFile(path.join(temp.path, 'summary.md'), 'utf8'), report.stdout, 'job summary');
  t.is((await currentImage(share, 'pi1')).version, published, 'a report publishes nothing');
});

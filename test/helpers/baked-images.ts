import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import { cliOutput, runBakeCli, runImportCli, SAMPLE_LAB_FILE } from './bake-cli.ts';
import { makeProjectCopy } from './output-tree.ts';

/*
 * Baked images of the sample lab without root: a sample disk imported with `npm run import`, then
 * the real bake. A "variant" bakes the nodes again with another config.txt line: a new version.
 */

export interface BakedLab {
  readonly cleanDir: string;
  readonly imagesDir: string;
}

/** Imports a sample disk into `dir`/clean and bakes the sample lab into `dir`/images. */
export async function bakeSampleLab(dir: string): Promise<BakedLab> {
  const disk = await makeSampleDisk({ path: path.join(dir, 'disk.img'), firstBoot: 'firstrun' });
  const imported = await runImportCli([disk.path, '--name', 'pi-img', '--out', path.join(dir, 'clean')]);
  if (imported.exitCode !== 0) throw new Error(`import failed: ${cliOutput(imported)}`);
  const cleanDir = path.join(dir, 'clean/pi-img');
  const imagesDir = path.join(dir, 'images');
  const baked = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', cleanDir, '--out', imagesDir]);
  if (baked.exitCode !== 0) throw new Error(`bake failed: ${cliOutput(baked)}`);
  return { cleanDir, imagesDir };
}

/** Bakes the sample lab into `outDir` with the node recipe's config.txt line replaced by `line`. */
export async function bakeNodeVariant(
  lab: BakedLab,
  projectDir: string,
  outDir: string,
  line: string,
): Promise<void> {
  await makeProjectCopy(projectDir);
  const recipe = path.join(projectDir, 'recipes/node.yaml');
  const text = await readFile(recipe, 'utf8');
  if (!text.includes('dtoverlay=disable-wifi'))
    throw new Error('the node recipe changed: update this helper');
  await writeFile(recipe, text.replace('dtoverlay=disable-wifi', line));
  const baked = await runBakeCli(['--lab', SAMPLE_LAB_FILE, '--clean', lab.cleanDir, '--out', outDir], {
    projectDir,
  });
  if (baked.exitCode !== 0) throw new Error(`bake failed: ${cliOutput(baked)}`);
}

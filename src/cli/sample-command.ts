import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { importDisk } from '../import/import-disk.ts';
import { loadLab } from '../lab/load-lab.ts';
import { makeSampleDisk } from '../sample/make-sample-disk.ts';
import { SAMPLE_TOOLS, verifyHostTools } from '../tools/host-tools.ts';
import { bakeCommand } from './bake-command.ts';
import { reportFatal } from './exit-codes.ts';
import { runInterruptibly } from './interrupts.ts';

/**
 * The first-run path: with no clean image at the sample lab's image.clean, build a small
 * Pi-OS-like disk in Imager's firstrun.sh form (no root), import it, then bake the sample lab.
 */
export async function sampleCommand(argv: readonly string[], projectDir: string): Promise<number> {
  try {
    const lab = await loadLab(path.join(projectDir, 'recipes/lab.yaml'), { projectDir });
    const clean = lab.image.clean;
    if (
      await stat(clean).then(
        () => true,
        () => false,
      )
    ) {
      process.stderr.write(`Using the clean image at ${clean}.\n`);
    } else {
      await verifyHostTools(SAMPLE_TOOLS);
      process.stderr.write(
        `No clean image at ${clean}: building the sample one (a Pi-OS-like disk, firstrun.sh form)…\n`,
      );
      await runInterruptibly(() => buildSampleCleanImage(clean));
      process.stderr.write(
        `Sample clean image ready at ${clean}. To use a real one, see README "Use your own clean image".\n\n`,
      );
    }
    return await bakeCommand(argv, projectDir);
  } catch (error) {
    return reportFatal(error);
  }
}

async function buildSampleCleanImage(clean: string): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'pi-lab-sample-'));
  try {
    const disk = await makeSampleDisk({ path: path.join(scratch, 'sample.img'), firstBoot: 'firstrun' });
    await importDisk({ diskFile: disk.path, name: path.basename(clean), outDir: path.dirname(clean) });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

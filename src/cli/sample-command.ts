import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { importDisk } from '../import/import-disk.ts';
import { DEFAULT_LAB_FILE } from '../lab/default-lab-file.ts';
import { loadLab } from '../lab/load-lab.ts';
import { SAMPLE_KEY_DIR } from '../boot-test/run-boot-test.ts';
import { ensureSampleOs } from '../sample-os/sample-os-cache.ts';
import { IMPORT_TOOLS, verifyHostTools } from '../tools/host-tools.ts';
import { bakeCommand } from './bake-command.ts';
import { defineCommand } from './define-command.ts';
import { LAB_OPTION, runCliCommand } from './run-cli-command.ts';

/**
 * The first-run path: with no clean image at the sample lab's image.clean, build the bootable
 * sample (Debian 12 shaped like Raspberry Pi OS Lite after Imager, firstrun.sh form; cached by its
 * inputs), import it with its SSH key pair beside it, then bake the sample lab.
 */
export const sampleCommand = defineCommand({
  name: 'sample',
  usage: bakeCommand.usage,
  // The bake's arguments, handed on to it; the clean image checked here is always the sample lab's.
  options: { ...bakeCommand.options, ...LAB_OPTION },
  readsLab: false,
  leftAsItWas:
    'no sample clean image was installed; npm run sample starts again (a finished Debian build stays cached).',
  run: async ({ argv, projectDir, interruptibly }) => {
    const lab = await loadLab(path.join(projectDir, DEFAULT_LAB_FILE), { projectDir });
    const clean = lab.image.clean;
    if (await exists(clean)) {
      process.stderr.write(`Using the clean image at ${clean}.\n`);
    } else {
      await verifyHostTools(IMPORT_TOOLS);
      process.stderr.write(
        `No clean image at ${clean}: building the sample one (Debian 12 shaped like Raspberry Pi OS Lite after Imager, firstrun.sh form; a few minutes the first time, cached after)…\n`,
      );
      await interruptibly(() => importSampleCleanImage(clean, path.join(projectDir, 'images')));
      process.stderr.write(
        `Sample clean image ready at ${clean}; its SSH key is in images/${SAMPLE_KEY_DIR}. To use a real one, see README "Use your own clean image".\n\n`,
      );
    }
    return runCliCommand(bakeCommand, argv, projectDir);
  },
});

async function importSampleCleanImage(clean: string, imagesDir: string): Promise<void> {
  const sample = await ensureSampleOs('firstrun', (line) => process.stderr.write(`  ${line}\n`));
  process.stderr.write('  importing it as a Clonezilla image…\n');
  const keyDir = path.join(imagesDir, SAMPLE_KEY_DIR);
  await mkdir(keyDir, { recursive: true });
  await copyFile(sample.privateKey, path.join(keyDir, 'id_ed25519'));
  await copyFile(sample.publicKey, path.join(keyDir, 'id_ed25519.pub'));
  await importDisk({ diskFile: sample.disk, name: path.basename(clean), outDir: path.dirname(clean) });
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

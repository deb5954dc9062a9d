import path from 'node:path';
import { UserError } from '../errors.ts';
import { importDisk } from '../import/import-disk.ts';
import { defineCommand } from './define-command.ts';
import { EXIT_OK } from './exit-codes.ts';

export const IMPORT_USAGE = `Usage: npm run import -- DISK.img[.xz] [--name pi-img] [--out DIR]

Turns a raw disk image (a dd of a USB disk written by Raspberry Pi Imager, or an official
Raspberry Pi OS image) into a Clonezilla image directory DIR/NAME that ocs-sr can restore.`;

export const importCommand = defineCommand({
  name: 'import',
  usage: IMPORT_USAGE,
  options: { name: { type: 'string' }, out: { type: 'string' } },
  readsLab: false,
  leftAsItWas: 'no clean image was written; the partial one is removed.',
  run: async ({ values, positionals, projectDir, interruptibly }) => {
    const [diskFile, ...extra] = positionals;
    if (!diskFile || extra.length > 0)
      throw new UserError('Give exactly one disk image to import.', [IMPORT_USAGE]);
    const name = values.name ?? 'pi-img';
    if (!/^[\w.-]+$/.test(name))
      throw new UserError(`--name ${name}: use letters, digits, '.', '_' and '-' only.`);
    const target = await interruptibly(() =>
      importDisk({
        diskFile: path.resolve(diskFile),
        name,
        outDir: path.resolve(values.out ?? path.join(projectDir, 'images')),
        onProgress: (line) => process.stderr.write(`import: ${line}\n`),
      }),
    );
    process.stdout.write(`Imported ${diskFile} as ${target}\n`);
    return EXIT_OK;
  },
});

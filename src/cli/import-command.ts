import path from 'node:path';
import { UserError } from '../errors.ts';
import { importDisk } from '../import/import-disk.ts';
import { EXIT_OK, reportFatal } from './exit-codes.ts';
import { runInterruptibly } from './interrupts.ts';
import { parseCliArgs } from './parse-cli-args.ts';

export const IMPORT_USAGE = `Usage: npm run import -- DISK.img[.xz] [--name pi-img] [--out DIR]

Turns a raw disk image (a dd of a USB disk written by Raspberry Pi Imager, or an official
Raspberry Pi OS image) into a Clonezilla image directory DIR/NAME that ocs-sr can restore.`;

export async function importCommand(argv: readonly string[], projectDir: string): Promise<number> {
  try {
    const { values, positionals } = parseImportArgs(argv);
    if (values.help) {
      process.stdout.write(`${IMPORT_USAGE}\n`);
      return EXIT_OK;
    }
    const [diskFile, ...extra] = positionals;
    if (!diskFile || extra.length > 0)
      throw new UserError('Give exactly one disk image to import.', [IMPORT_USAGE]);
    const name = values.name ?? 'pi-img';
    if (!/^[\w.-]+$/.test(name))
      throw new UserError(`--name ${name}: use letters, digits, '.', '_' and '-' only.`);
    const target = await runInterruptibly(
      () =>
        importDisk({
          diskFile: path.resolve(diskFile),
          name,
          outDir: path.resolve(values.out ?? path.join(projectDir, 'images')),
          onProgress: (line) => process.stderr.write(`import: ${line}\n`),
        }),
      'no clean image was written; the partial one is removed.',
    );
    process.stdout.write(`Imported ${diskFile} as ${target}\n`);
    return EXIT_OK;
  } catch (error) {
    return reportFatal(error);
  }
}

function parseImportArgs(argv: readonly string[]) {
  return parseCliArgs(argv, { name: { type: 'string' }, out: { type: 'string' } }, IMPORT_USAGE);
}

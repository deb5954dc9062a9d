import { command } from '../exec/command.ts';
import { runCommand, runCommandForBytes } from '../exec/run-command.ts';

/** mtools reads and writes FAT images without mounting (the kernel here has no vfat anyway). */

const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '0', TZ: 'UTC' } as const;

function fatPath(target: string): string {
  return `::${target.startsWith('/') ? target : `/${target}`}`;
}

export async function readFatFile(image: string, target: string): Promise<Buffer> {
  return runCommandForBytes(command('mcopy', ['-n', '-i', image, fatPath(target), '-'], { env: MTOOLS_ENV }));
}

/** Names of the regular files and directories directly under `dir` (mdir -b lists full paths, one per line). */
export async function listFatDirectory(image: string, dir = '/'): Promise<string[]> {
  const result = await runCommand(command('mdir', ['-b', '-i', image, fatPath(dir)], { env: MTOOLS_ENV }), {
    okExitCodes: [1],
  });
  if (result.exitCode !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => line.replace(/^::/, '').replace(/\/$/, ''))
    .map((line) => line.split('/').pop() ?? line);
}

/**
 * Makes the directories in the order given (parents first); ones that exist already are kept. A new
 * entry takes `pinnedTime` (mtools reads SOURCE_DATE_EPOCH instead of the clock), so that the same
 * edits give the same image.
 */
export async function makeFatDirectories(
  image: string,
  targets: readonly string[],
  pinnedTime: number,
): Promise<void> {
  if (targets.length === 0) return;
  await runCommand(
    command('mmd', ['-D', 's', '-i', image, ...targets.map(fatPath)], {
      env: { ...MTOOLS_ENV, SOURCE_DATE_EPOCH: String(Math.floor(pinnedTime)) },
    }),
  );
}

/**
 * Writes local files into one FAT directory with a single mcopy, replacing what is there. Each entry
 * takes its local file's name and mtime (`-m`): the caller names and dates the files as they must
 * land. mcopy writes them in the order given, so the same files give the same image.
 */
export async function writeFatFilesInto(
  image: string,
  localFiles: readonly string[],
  targetDir: string,
): Promise<void> {
  if (localFiles.length === 0) return;
  await runCommand(
    command('mcopy', ['-o', '-m', '-i', image, ...localFiles, `${fatPath(targetDir).replace(/\/$/, '')}/`], {
      env: MTOOLS_ENV,
    }),
  );
}

/** Copies FAT files (whose names differ) into a local directory with a single mcopy. */
export async function readFatFilesInto(
  image: string,
  targets: readonly string[],
  localDir: string,
): Promise<void> {
  if (targets.length === 0) return;
  await runCommand(
    command('mcopy', ['-n', '-i', image, ...targets.map(fatPath), `${localDir}/`], { env: MTOOLS_ENV }),
  );
}

import { command } from '../exec/command.ts';
import { runCommand } from '../exec/run-command.ts';

/** sfdisk, parted, blkid and dd on a disk image file: no root, no loop device. */

export async function dumpPartitionTable(diskFile: string): Promise<string> {
  return (await runCommand(command('sfdisk', ['-d', diskFile]))).stdout;
}

export async function printPartedTable(diskFile: string, unit: 's' | 'compact'): Promise<string> {
  return (await runCommand(command('parted', ['-s', diskFile, 'unit', unit, 'print']))).stdout;
}

/** blkid's low-level probe of the filesystem at a byte range of the file. */
export async function probeFilesystem(
  diskFile: string,
  offset: number,
  size: number,
): Promise<Record<string, string>> {
  const result = await runCommand(
    command('blkid', ['-p', '-o', 'export', '-O', String(offset), '-S', String(size), diskFile]),
    {
      okExitCodes: [2],
    },
  );
  return Object.fromEntries(
    result.stdout
      .split('\n')
      .map((line) => /^([A-Z_]+)=(.*)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1] ?? '', match[2] ?? '']),
  );
}

/** Copies a byte range of a disk image into a new file, leaving zero blocks as holes. */
export async function extractRange(
  diskFile: string,
  offset: number,
  length: number,
  output: string,
): Promise<void> {
  await runCommand(
    command('dd', [
      `if=${diskFile}`,
      `of=${output}`,
      'bs=1M',
      'iflag=skip_bytes,count_bytes',
      `skip=${offset}`,
      `count=${length}`,
      'conv=sparse',
      'status=none',
    ]),
  );
}

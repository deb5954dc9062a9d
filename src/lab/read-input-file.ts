import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.ts';

/** Reads a file the user named; a missing or unreadable one is a UserError that says how to choose another. */
export async function readInputFile(
  file: string,
  shown: string,
  kind: string,
  remedy: string,
): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code ?? 'error'})`;
    throw new UserError(`${kind} ${shown} ${reason}`, [`${file}: ${remedy}`]);
  }
}

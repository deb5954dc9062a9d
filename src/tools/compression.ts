import { type Command, command } from '../exec/command.ts';
import type { Codec } from '../clonezilla/partition-image-name.ts';

/** Decompresses the concatenation of a partition image's pieces (gzip and zstd streams concatenate). */
export function decompressCommand(codec: Codec): Command {
  switch (codec) {
    case 'gz':
      return command('pigz', ['-d', '-c']);
    case 'zst':
      return command('zstd', ['-d', '-c', '-q']);
    default:
      throw new Error(`no decompressor for ${codec}`);
  }
}

/** zstd frames carry no name or time, and multi-threaded zstd output does not depend on thread timing. */
export function zstdCompressCommand(): Command {
  return command('zstd', ['-q', '-c', '-3', '-T0']);
}

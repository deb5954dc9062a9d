import { spawnStreaming } from '../exec/run-command.ts';
import { cloneToStdoutCommand } from '../tools/partclone.ts';
import { prefixBytesOf } from './partclone-stream.ts';

/**
 * The header and bitmap partclone writes for `sourceFile`: which blocks are used is partclone's
 * call, read from the filesystem's own allocation data. partclone is stopped once they are out,
 * before it copies any block. Undefined when its stream is not one `encodeBlocks` can continue.
 */
export async function readClonePrefix(
  fs: string,
  sourceFile: string,
  log: string,
): Promise<Buffer | undefined> {
  const clone = spawnStreaming(cloneToStdoutCommand(fs, sourceFile, log), { stdin: 'ignore' });
  const pieces: Buffer[] = [];
  let have = 0;
  let wanted: number | undefined;
  try {
    for await (const piece of clone.stdout as AsyncIterable<Buffer>) {
      pieces.push(piece);
      have += piece.length;
      if (wanted === undefined && have >= 110) {
        wanted = prefixBytesOf(Buffer.concat(pieces));
        if (wanted === undefined) break;
      }
      if (wanted !== undefined && have >= wanted) break;
    }
  } finally {
    clone.kill();
  }
  const prefix = Buffer.concat(pieces);
  if (wanted !== undefined && prefix.length >= wanted) {
    await clone.done.catch(() => undefined);
    return prefix.subarray(0, wanted);
  }
  if (prefix.length >= 110) {
    // A stream of another kind (version, checksum or bitmap mode): partclone copies it itself.
    await clone.done.catch(() => undefined);
    return undefined;
  }
  // partclone ended before its header was out: its own error says why.
  await clone.done;
  throw new Error(`partclone.${fs} wrote ${prefix.length} bytes of its stream for ${sourceFile} and stopped`);
}

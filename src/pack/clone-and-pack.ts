import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Codec } from '../clonezilla/partition-image-name.ts';
import { spawnStreaming } from '../exec/run-command.ts';
import { ToolError } from '../errors.ts';
import { CHKIMG_SUCCESS, checkImageCommand, cloneToStdoutCommand } from '../tools/partclone.ts';
import type { MemberStore } from './member-store.ts';
import { type PackResult, packGzipStream } from './pack-stream.ts';
import { packZstdStream } from './pack-zstd-stream.ts';
import { teeStream } from './tee-stream.ts';
import { prof } from '../bake/prof-tmp.ts';

export interface CloneRequest {
  readonly fs: string;
  readonly sourceFile: string;
  readonly output: string;
  readonly codec: Codec;
  readonly store: MemberStore;
  readonly workDir: string;
  readonly onBytes?: (raw: number) => void;
}

/**
 * partclone clones the edited filesystem; its stream goes at once to partclone.chkimg and to the
 * compressor, so the image is verified by the real checker without being decompressed again.
 */
export async function cloneAndPack(request: CloneRequest): Promise<PackResult> {
  const label = path.basename(request.output);
  const clone = spawnStreaming(
    cloneToStdoutCommand(request.fs, request.sourceFile, path.join(request.workDir, `${label}.clone.log`)),
    {
      stdin: 'ignore',
    },
  );
  const check = spawnStreaming(checkImageCommand(path.join(request.workDir, `${label}.chkimg.log`)), {
    stdin: 'pipe',
  });
  let checkReport = '';
  check.stdout.setEncoding('utf8');
  check.stdout.on('data', (text: string) => (checkReport = (checkReport + text).slice(-4096)));
  const checkInput = check.stdin;
  checkInput.on('error', () => undefined);
  const packInput = new PassThrough({ highWaterMark: 1 << 20 });
  const copy = teeStream(clone.stdout, [
    { name: 'partclone.chkimg', stream: checkInput, finishedEarly: () => check.done.then(() => undefined) },
    { name: 'the compressor', stream: packInput },
  ]);
  const packing =
    request.codec === 'gz'
      ? packGzipStream(packInput, request.output, request.store, request.onBytes)
      : packZstdStream(packInput, request.output, request.onBytes);
  const checked = check.done.then((stderr) => {
    if (!CHKIMG_SUCCESS.test(checkReport)) {
      throw new ToolError(
        'partclone.chkimg did not report a successful check',
        'partclone.chkimg -s -',
        'exit 0',
        `${checkReport}\n${stderr}`,
      );
    }
  });
  const t = prof(`${label} clone start`);
  void packing.then(() => prof(`${label} packing done`, t));
  void clone.done.then(() => prof(`${label} clone done`, t));
  void checked.then(() => prof(`${label} chkimg done`, t));
  void copy.then(() => prof(`${label} tee done`, t));
  const steps = [packing, clone.done, checked, copy] as const;
  try {
    const [packed] = await Promise.all(steps);
    return packed;
  } catch (error) {
    clone.kill();
    check.kill();
    packInput.destroy();
    await Promise.allSettled(steps);
    throw error;
  }
}

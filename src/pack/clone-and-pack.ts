import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { Codec } from '../clonezilla/partition-image-name.ts';
import { formatCommand } from '../exec/command.ts';
import { runCommand, spawnStreaming } from '../exec/run-command.ts';
import { ToolError } from '../errors.ts';
import {
  CHKIMG_SUCCESS,
  checkImageCommand,
  cloneToFileCommand,
  cloneToStdoutCommand,
} from '../tools/partclone.ts';
import { readClonePrefix } from './clone-prefix.ts';
import type { MemberStore } from './member-store.ts';
import { encodeBlocks } from './partclone-stream.ts';
import { type PackResult, packGzipStream } from './pack-stream.ts';
import { packZstdStream } from './pack-zstd-stream.ts';
import { teeStream } from './tee-stream.ts';
import type { StageTimes } from '../values/stage-times.ts';

export interface CloneRequest {
  readonly fs: string;
  readonly sourceFile: string;
  readonly output: string;
  readonly codec: Codec;
  readonly store: MemberStore;
  readonly workDir: string;
  readonly onBytes?: (raw: number) => void;
  /** How the stream reaches the checker and the packer; by default chosen by the filesystem's size. */
  readonly route?: CloneRoute;
  /** Where the clone, its check and the packer add their seconds. */
  readonly times?: StageTimes;
  /**
   * The stream's header and bitmap when the caller can make them without partclone (an edited
   * copy of a clean FAT32, see fat-prefix.ts), or undefined to let partclone decide.
   */
  readonly prefix?: () => Promise<Buffer | undefined>;
}

export type CloneRoute = 'scratch-file' | 'tee';

/**
 * Streams of filesystems holding at most this much data go through a scratch file (see
 * cloneThroughFile); bigger ones are relayed, so that scratch space never holds a root filesystem's
 * stream besides the filesystem itself.
 */
const SCRATCH_STREAM_BYTES = 256 * 1024 * 1024;

/** partclone clones the edited filesystem, partclone.chkimg verifies the stream, the packer compresses it. */
export async function cloneAndPack(request: CloneRequest): Promise<PackResult> {
  const route = request.route ?? (await routeFor(request.sourceFile));
  return route === 'scratch-file' ? cloneThroughFile(request) : cloneThroughTee(request);
}

async function routeFor(sourceFile: string): Promise<CloneRoute> {
  // A sparse copy of a filesystem allocates about the blocks partclone copies.
  const { blocks } = await stat(sourceFile);
  return blocks * 512 <= SCRATCH_STREAM_BYTES ? 'scratch-file' : 'tee';
}

/**
 * partclone writes the stream to a scratch file, then partclone.chkimg and the packer read it at
 * once, each at its own pace. For a small filesystem (a boot partition) that takes less CPU than
 * relaying every byte to the checker through this process in 64 KiB pieces, and the file is removed
 * long before the kernel would write it back.
 */
async function cloneThroughFile(request: CloneRequest): Promise<PackResult> {
  const label = path.basename(request.output);
  const stream = path.join(request.workDir, `${label}.partclone`);
  await rm(stream, { force: true });
  try {
    await timed(request, 'clone', async () => {
      const prefix = await encodablePrefix(request);
      if (prefix)
        await pipeline(encodeBlocks(request.sourceFile, prefix), createWriteStream(stream, { flags: 'wx' }));
      else
        await runCommand(
          cloneToFileCommand(request.fs, request.sourceFile, stream, logFile(request, 'clone')),
        );
    });
    const stop = new AbortController();
    const packing =
      request.codec === 'gz'
        ? packGzipStream(
            readPieces(stream, stop.signal),
            request.output,
            request.store,
            request.onBytes,
            request.times,
          )
        : packZstdStream(
            createReadStream(stream, { highWaterMark: 1 << 20, signal: stop.signal }),
            request.output,
            request.onBytes,
          );
    const checkCommand = checkImageCommand(logFile(request, 'chkimg'), stream);
    const checking = timed(request, 'verify', () => runCommand(checkCommand)).then((result) =>
      assertChecked(result.stdout, result.stderr, formatCommand(checkCommand)),
    );
    // A failed check stops the packer; the check's error is the one worth reporting.
    void checking.catch(() => stop.abort());
    const [packed, checked] = await Promise.allSettled([packing, checking]);
    if (checked.status === 'rejected') throw checked.reason;
    if (packed.status === 'rejected') throw packed.reason;
    return packed.value;
  } finally {
    await rm(stream, { force: true });
  }
}

/**
 * partclone clones the edited filesystem; its stream goes at once to partclone.chkimg and to the
 * compressor, so the image is verified by the real checker without being decompressed again.
 */
async function cloneThroughTee(request: CloneRequest): Promise<PackResult> {
  const clone = await streamOf(request);
  const check = spawnStreaming(checkImageCommand(logFile(request, 'chkimg')), {
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
      ? packGzipStream(packInput, request.output, request.store, request.onBytes, request.times)
      : packZstdStream(packInput, request.output, request.onBytes);
  const cloneStarted = performance.now();
  void clone.done.then(
    () => request.times?.add('clone', (performance.now() - cloneStarted) / 1000),
    () => undefined,
  );
  void check.done.then(
    () => request.times?.add('verify', (performance.now() - cloneStarted) / 1000),
    () => undefined,
  );
  const checked = check.done.then((stderr) => assertChecked(checkReport, stderr, 'partclone.chkimg -s -'));
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

/**
 * Filesystems whose header and bitmap partclone writes for the blocks to be encoded here.
 * partclone.ext4 spends its time copying blocks (a 1.8 GB stream: 6.5 s, against 70 ms for its
 * header and bitmap and 2.4 s to encode the blocks here); partclone.vfat spends it on the bitmap
 * (0.43 s of 0.67 s for a 512 MiB FAT32), so a FAT is encoded only with a prefix made without it.
 */
const PREFIX_BY_PARTCLONE: ReadonlySet<string> = new Set(['ext4']);

async function encodablePrefix(request: CloneRequest): Promise<Buffer | undefined> {
  const given = await request.prefix?.();
  if (given) return given;
  if (!PREFIX_BY_PARTCLONE.has(request.fs)) return undefined;
  return readClonePrefix(request.fs, request.sourceFile, logFile(request, 'prefix'));
}

interface StreamSource {
  readonly stdout: Readable;
  readonly done: Promise<unknown>;
  kill(): void;
}

/**
 * The filesystem's partclone stream: partclone writes the header and bitmap (which blocks are
 * used is its call), and the blocks are read and checksummed here, which takes a fraction of
 * partclone's CPU for the same bytes (test/pack/partclone-stream.test.ts compares them). A stream
 * of a kind encodeBlocks does not write is partclone's own, whole.
 */
async function streamOf(request: CloneRequest): Promise<StreamSource> {
  const prefix = await encodablePrefix(request);
  if (!prefix)
    return spawnStreaming(cloneToStdoutCommand(request.fs, request.sourceFile, logFile(request, 'clone')), {
      stdin: 'ignore',
    });
  const stdout = Readable.from(encodeBlocks(request.sourceFile, prefix));
  return { stdout, done: finished(stdout), kill: () => stdout.destroy() };
}

/** A file's bytes as views of one reused 1 MiB buffer, each valid until the next is asked for. */
async function* readPieces(file: string, signal: AbortSignal): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      signal.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

function timed<T>(request: CloneRequest, stage: 'clone' | 'verify', work: () => Promise<T>): Promise<T> {
  return request.times ? request.times.time(stage, work) : work();
}

function logFile(request: CloneRequest, step: 'clone' | 'prefix' | 'chkimg'): string {
  return path.join(request.workDir, `${path.basename(request.output)}.${step}.log`);
}

/** An exit status of 0 alone does not show that a check ran (see partclone.ts): its report must say so. */
function assertChecked(report: string, stderr: string, commandLine: string): void {
  if (!CHKIMG_SUCCESS.test(report)) {
    throw new ToolError(
      'partclone.chkimg did not report a successful check',
      commandLine,
      'exit 0',
      `${report.slice(-4096)}\n${stderr}`,
    );
  }
}

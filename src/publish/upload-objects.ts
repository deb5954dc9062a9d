import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { copyRange } from '../exec/copy-range.ts';
import { interruptedSignal } from '../exec/run-command.ts';
import type { ShareFs, SharePiece } from '../share/share-fs.ts';
import { objectPath } from '../share/share-layout.ts';
import { isSegmentable, readSegments } from './file-segments.ts';
import { type Delta, type KnownSegment, planDelta } from './plan-delta.ts';
import type { ObjectUpload } from './plan-publish.ts';
import type { PublishReporter } from './publish-events.ts';
import { addKnownSegments, readKnownSegments, writeSegmentIndex } from './segment-index.ts';

export interface Transfer {
  readonly file: string;
  /** Bytes that crossed to the share (only the new segments of a delta). */
  readonly bytes: number;
  readonly fileBytes: number;
  /** Sending only, not the check on the far side. */
  readonly seconds: number;
}

export interface UploadResult {
  /** sha256 → why the file was not stored. */
  readonly rejected: ReadonlyMap<string, string>;
  readonly transfers: readonly Transfer[];
  readonly bytesSent: number;
}

/** Smaller files go whole: their segments are not worth the bookkeeping. */
const SEGMENTED_FROM_BYTES = 8 * 1024 * 1024;
/** A delta is used when it sends at most this share of the file. */
const DELTA_WORTH = 0.8;

/**
 * Sends each missing file to the share's upload area, checks its sha256 there, and only then moves
 * it into the object store: the store holds verified bytes only. A big repacked image whose gzip
 * members are mostly stored already (the router's root image next to the nodes') travels as its
 * new segments only and is put together on the far side. Returns the files that failed their
 * check, with the reason, so that only the hosts using them fail.
 */
export async function uploadObjects(
  share: ShareFs,
  uploads: readonly ObjectUpload[],
  uploadDir: string,
  stored: ReadonlySet<string>,
  reporter: PublishReporter,
): Promise<UploadResult> {
  const rejected = new Map<string, string>();
  const transfers: Transfer[] = [];
  await share.mkdirp(uploadDir);
  let known: Map<string, KnownSegment> | undefined;
  const localScratch = await mkdtemp(path.join(os.tmpdir(), 'pi-lab-publish-'));
  try {
    for (const upload of uploads) {
      const label = upload.usedBy[0] ?? upload.sha256;
      const temporary = `${uploadDir}/${upload.sha256}`;
      const segments =
        upload.size >= SEGMENTED_FROM_BYTES && (await isSegmentable(upload.localFile))
          ? await readSegments(upload.localFile)
          : undefined;
      if (segments) known ??= await readKnownSegments(share, stored);
      const delta = segments && known ? planDelta(segments, known) : undefined;
      const useDelta = delta !== undefined && delta.sendBytes <= DELTA_WORTH * upload.size;
      const started = performance.now();
      const progress = (sent: number, total: number) => {
        const seconds = (performance.now() - started) / 1000;
        reporter.transfer(label, sent, total, seconds > 0 ? sent / seconds : 0);
      };
      const sent = useDelta
        ? await sendDelta(share, upload, delta, temporary, localScratch, progress)
        : await sendWhole(share, upload, temporary, progress);
      const seconds = (performance.now() - started) / 1000;
      transfers.push({ file: label, bytes: sent, fileBytes: upload.size, seconds });
      reporter.transferred(
        useDelta ? `${label} (new segments of ${upload.size} bytes)` : label,
        sent,
        seconds,
      );
      const received = await share.sha256(temporary);
      if (received !== upload.sha256) {
        rejected.set(upload.sha256, await mismatchReason(upload, received, share.description));
        await share.removeTree(temporary);
        continue;
      }
      if (segments) await writeSegmentIndex(share, upload.sha256, segments, uploadDir);
      await share.rename(temporary, objectPath(upload.sha256));
      if (segments && known) addKnownSegments(known, upload.sha256, segments);
    }
  } finally {
    await rm(localScratch, { recursive: true, force: true });
  }
  return { rejected, transfers, bytesSent: transfers.reduce((sum, t) => sum + t.bytes, 0) };
}

async function sendWhole(
  share: ShareFs,
  upload: ObjectUpload,
  temporary: string,
  progress: (sent: number, total: number) => void,
): Promise<number> {
  await share.upload(upload.localFile, temporary, (sent) => progress(sent, upload.size), interruptedSignal);
  return upload.size;
}

/** Sends the new segments as one patch file, then has the share copy the rest from stored files. */
async function sendDelta(
  share: ShareFs,
  upload: ObjectUpload,
  delta: Delta,
  temporary: string,
  localScratch: string,
  progress: (sent: number, total: number) => void,
): Promise<number> {
  const patchLocal = path.join(localScratch, `${upload.sha256}.patch`);
  const patch = `${temporary}.patch`;
  const pieces: SharePiece[] = [];
  const source = await open(upload.localFile, 'r');
  const output = await open(patchLocal, 'w');
  try {
    let patchOffset = 0;
    for (const piece of delta.pieces) {
      if (piece.kind === 'copy') {
        pieces.push({ source: objectPath(piece.object), offset: piece.offset, length: piece.length });
        continue;
      }
      await copyRange(source, piece.offset, piece.length, output, patchOffset);
      pieces.push({ source: patch, offset: patchOffset, length: piece.length });
      patchOffset += piece.length;
    }
  } finally {
    await source.close();
    await output.close();
  }
  await share.upload(patchLocal, patch, (sent) => progress(sent, delta.sendBytes), interruptedSignal);
  await share.assemble(temporary, pieces);
  await share.removeTree(patch);
  return delta.sendBytes;
}

/** Tells a file changed since the bake from bytes damaged on the way. */
async function mismatchReason(upload: ObjectUpload, received: string, share: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(upload.localFile), hash);
  const local = hash.digest('hex');
  const names = upload.usedBy.join(', ');
  if (local !== upload.sha256) {
    return `${upload.localFile} changed since it was baked (sha256 ${local}, its manifest says ${upload.sha256}; used by ${names}): bake again, then publish.`;
  }
  return `${upload.localFile} arrived damaged on ${share} (sha256 there ${received}, expected ${upload.sha256}; used by ${names}): publish again; if it repeats, check data1's disk.`;
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { interruptedSignal } from '../exec/run-command.ts';
import type { ShareFs } from '../share/share-fs.ts';
import { objectPath } from '../share/share-layout.ts';
import type { ObjectUpload } from './plan-publish.ts';
import type { PublishReporter } from './publish-events.ts';

/**
 * Sends each missing file to the share's upload area, checks its sha256 there, and only then moves
 * it into the object store: the store holds verified bytes only. Returns the files that failed
 * their check, with the reason, so that only the hosts using them fail.
 */
export async function uploadObjects(
  share: ShareFs,
  uploads: readonly ObjectUpload[],
  uploadDir: string,
  reporter: PublishReporter,
): Promise<Map<string, string>> {
  const rejected = new Map<string, string>();
  await share.mkdirp(uploadDir);
  for (const upload of uploads) {
    const label = upload.usedBy[0] ?? upload.sha256;
    const temporary = `${uploadDir}/${upload.sha256}`;
    const started = performance.now();
    await share.upload(
      upload.localFile,
      temporary,
      (sent) => {
        const seconds = (performance.now() - started) / 1000;
        reporter.transfer(label, sent, upload.size, seconds > 0 ? sent / seconds : 0);
      },
      interruptedSignal,
    );
    reporter.transferred(label, upload.size, (performance.now() - started) / 1000);
    const received = await share.sha256(temporary);
    if (received === upload.sha256) {
      await share.rename(temporary, objectPath(upload.sha256));
    } else {
      rejected.set(upload.sha256, await mismatchReason(upload, received, share.description));
      await share.removeTree(temporary);
    }
  }
  return rejected;
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

import os from 'node:os';
import { formatBytes } from '../format-units.ts';
import { describeError, UserError } from '../errors.ts';
import { interruptionSignal } from '../exec/run-command.ts';
import type { ShareFs } from '../share/share-fs.ts';
import { readHostsOnShare, readSharedObjects, missingFilesOf } from '../share/read-share-state.ts';
import { acquireShareLock } from '../share/share-lock.ts';
import { INCOMING_DIR, incomingDir, OBJECTS_DIR } from '../share/share-layout.ts';
import { assembleVersion } from './assemble-version.ts';
import { type HostPublishPlan, type LocalImage, planPublish, type PublishPlan } from './plan-publish.ts';
import type { PublishOutcome, PublishReporter } from './publish-events.ts';
import { pruneShare, type PruneResult } from './prune-share.ts';
import { switchCurrent } from './switch-current.ts';
import { type Transfer, uploadObjects } from './upload-objects.ts';

export interface PublishOptions {
  readonly share: ShareFs;
  readonly images: readonly LocalImage[];
  /** Versions kept per host (the current one always). */
  readonly keep: number;
  readonly reporter: PublishReporter;
}

export interface PublishResult {
  readonly outcomes: readonly PublishOutcome[];
  readonly ok: boolean;
  readonly bytesSent: number;
  readonly leftoversRemoved: number;
  readonly transfers: readonly Transfer[];
  readonly pruned: PruneResult;
}

/** Room left on the share beyond the new files: a full filesystem breaks more than this publish. */
const FREE_SPACE_MARGIN = 64 * 1024 * 1024;

/**
 * Under the share lock: clear what interrupted runs left, upload the missing files (verified on the
 * share), assemble each host's version, switch each host's current link, prune old versions.
 */
export async function publishImages(options: PublishOptions): Promise<PublishResult> {
  const { share, reporter } = options;
  reporter.stage(`locking ${share.description}`);
  const lock = await acquireShareLock(share, 'npm run publish');
  const scratch = incomingDir(`${os.hostname()}-${process.pid}-${Date.now()}`.replace(/[^\w.-]/g, '_'));
  try {
    const leftovers = await share.list(INCOMING_DIR);
    if (leftovers.length > 0) {
      reporter.stage(`removing ${leftovers.length} leftover(s) of interrupted publishes`);
      await share.removeTree(INCOMING_DIR);
    }
    await share.mkdirp(OBJECTS_DIR);
    const stored = await readSharedObjects(share);
    const plan = await planAgainstShare(share, options.images, stored);
    await checkFreeSpace(share, plan);
    if (plan.uploads.length > 0)
      reporter.stage(`uploading ${plan.uploads.length} file(s), ${formatBytes(plan.uploadBytes)}`);
    const { rejected, transfers, bytesSent } = await uploadObjects(
      share,
      plan.uploads,
      `${scratch}/objects`,
      new Set(stored.keys()),
      reporter,
    );
    const sentBy = bytesByFirstHost(transfers);
    const outcomes: PublishOutcome[] = [];
    for (const host of plan.hosts) {
      const outcome = await publishHost(share, host, rejected, scratch, sentBy.get(host.host) ?? 0);
      outcomes.push(outcome);
      reporter.finished(outcome);
    }
    reporter.stage(`keeping ${options.keep} version(s) per host`);
    const pruned = await pruneShare(share, options.keep);
    return {
      outcomes,
      ok: outcomes.every((o) => o.status !== 'failed'),
      bytesSent,
      leftoversRemoved: leftovers.length,
      transfers,
      pruned,
    };
  } finally {
    await share.removeTree(scratch).catch(() => undefined);
    await lock.release().catch(() => undefined);
  }
}

async function planAgainstShare(
  share: ShareFs,
  images: readonly LocalImage[],
  stored: ReadonlyMap<string, number>,
): Promise<PublishPlan> {
  const hosts = await readHostsOnShare(
    share,
    images.map((image) => image.host),
  );
  const unmanaged = hosts.filter((host) => host.unmanaged).map((host) => host.host);
  if (unmanaged.length > 0) {
    throw new UserError(
      `${share.description} has ${unmanaged.join(', ')} as a directory or file that publish did not make.`,
      [
        'Publish makes each host name a link to its current version and never overwrites data it did not write.',
        `Move it aside on the share (e.g. mv ${unmanaged[0] ?? 'pi1'} ${unmanaged[0] ?? 'pi1'}.manual) and publish again.`,
      ],
    );
  }
  return planPublish(images, new Map(hosts.map((host) => [host.host, host])), stored);
}

async function checkFreeSpace(share: ShareFs, plan: PublishPlan): Promise<void> {
  if (plan.uploadBytes === 0) return;
  const free = await share.freeBytes(OBJECTS_DIR);
  if (free === undefined || free >= plan.uploadBytes + FREE_SPACE_MARGIN) return;
  throw new UserError(
    `${share.description} is too full: this publish needs ${formatBytes(plan.uploadBytes + FREE_SPACE_MARGIN)} (${formatBytes(plan.uploadBytes)} of new files and a ${formatBytes(FREE_SPACE_MARGIN)} margin), ${formatBytes(free)} are free.`,
    [
      'Nothing was uploaded; the current images are untouched.',
      'Free space on the share (fewer versions with --keep, or a bigger disk) and publish again.',
    ],
  );
}

async function publishHost(
  share: ShareFs,
  plan: HostPublishPlan,
  rejected: ReadonlyMap<string, string>,
  scratch: string,
  bytesSent: number,
): Promise<PublishOutcome> {
  const base = {
    host: plan.host,
    version: plan.version,
    ...(plan.previous === undefined ? {} : { previous: plan.previous }),
  };
  if (plan.action === 'unchanged') return { ...base, status: 'unchanged', bytesSent: 0 };
  try {
    if (plan.action === 'upload') {
      const reasons = [
        ...new Set(Object.values(plan.image.manifest.files).flatMap((f) => rejected.get(f.sha256) ?? [])),
      ];
      if (reasons.length > 0) throw new UserError(`${plan.host} was not switched:`, reasons);
      await assembleVersion(share, plan, scratch);
    } else {
      const missing = await missingFilesOf(share, plan.host, plan.version);
      if (missing.length > 0)
        throw new UserError(
          `${plan.host}: version ${plan.version} on ${share.description} lacks ${missing.join(', ')}.`,
        );
    }
    await switchCurrent(share, plan.host, plan.version, 'publish', scratch);
    return { ...base, status: plan.action === 'upload' ? 'published' : 'switched', bytesSent };
  } catch (error) {
    if (interruptionSignal()) throw error;
    return { ...base, status: 'failed', bytesSent, error: describeError(error) };
  }
}

/** Each transfer counts for the first host that uses the file. */
function bytesByFirstHost(transfers: readonly Transfer[]): Map<string, number> {
  const sent = new Map<string, number>();
  for (const transfer of transfers) {
    const host = transfer.file.split('/')[0] ?? '';
    sent.set(host, (sent.get(host) ?? 0) + transfer.bytes);
  }
  return sent;
}

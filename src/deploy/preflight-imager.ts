import path from 'node:path';
import { type Manifest, MANIFEST_FILE, parseManifest } from '../image/manifest.ts';
import { checkImager } from './check-imager.ts';
import type { DeployContext } from './deploy-context.ts';
import { StepError } from './deploy-events.ts';
import { gatherImagerFacts } from './gather-imager-facts.ts';
import type { RemoteHost } from './remote-port.ts';
import { findMountSource, mountShare, readFileCommand } from './remote-commands.ts';
import { readJobState } from './restore-job.ts';

/**
 * Everything is read and judged before anything is written: the imager, its disks, the share and
 * the image's checksums. A restore already under way (a re-run after a cut connection) is followed
 * instead; one that finished for this version is not run again.
 */
export async function preflightImager(ctx: DeployContext, imager: RemoteHost): Promise<Manifest> {
  const { target, settings, image } = ctx;
  const job = await readJobState(imager, target.host, settings.timeouts.locate);
  if (job.kind === 'running') {
    ctx.note(`a restore of ${job.version} is under way: following it`);
    return readManifest(imager, image.dir, settings.timeouts.locate);
  }
  await mountShareIfNeeded(ctx, imager);
  const facts = await gatherImagerFacts(
    imager,
    target,
    image,
    target.imagerName,
    settings.timeouts.preflight,
  );
  const problems = checkImager(target, facts);
  if (problems.length > 0)
    throw new StepError('preflight', `${target.host}: not restoring, nothing was written:`, problems);
  if (!('manifest' in facts.image)) throw new Error('checkImager passed without a manifest');
  const manifest = facts.image.manifest;
  ctx.restoredAlready = job.kind === 'done' && job.exitCode === 0 && job.version === manifest.version;
  return manifest;
}

async function mountShareIfNeeded(ctx: DeployContext, imager: RemoteHost): Promise<void> {
  const { target, settings } = ctx;
  if (!target.nfs) return;
  const mounted = await imager.root.exec(findMountSource(target.imageRoot), {
    timeoutSeconds: settings.timeouts.locate,
  });
  if (mounted.stdout.trim() === target.nfs) return;
  const mount = await imager.root.exec(mountShare(target.nfs, target.imageRoot), {
    timeoutSeconds: 120,
  });
  if (mount.exitCode !== 0)
    throw new StepError(
      'preflight',
      `${target.imagerName} cannot mount the share ${target.nfs} at ${target.imageRoot}:`,
      [
        mount.stderr.trim() || `mount exited ${mount.exitCode ?? '?'}`,
        'Is data1 up and exporting it to the lab network? Is nfs-common installed on the imager?',
      ],
    );
}

async function readManifest(session: RemoteHost, dir: string, timeoutSeconds: number): Promise<Manifest> {
  const file = path.posix.join(dir, MANIFEST_FILE);
  const result = await session.run(readFileCommand(file), { timeoutSeconds });
  return parseManifest(result.stdout, `${session.describe()}:${file}`);
}

import path from 'node:path';
import { IMAGE_MARKER_PATH, parseMarker } from '../image/marker.ts';
import { fingerprintSha256 } from '../ssh/fingerprint.ts';
import { describeEndpoint, type HostKeyAcceptor, resolveSshSettings } from '../ssh/ssh-endpoint.ts';
import type { DeployContext } from './deploy-context.ts';
import { type DeployStep, StepError } from './deploy-events.ts';
import type { DeployTimeouts } from './deploy-settings.ts';
import { locateHost } from './locate-host.ts';
import { preflightImager } from './preflight-imager.ts';
import { waitForName } from './reach-host.ts';
import type { RemoteHost } from './remote-port.ts';
import { readFileCommand } from './remote-commands.ts';
import { runRestoreJob } from './restore-job.ts';
import { rebootNow, sendToImager } from './send-to-imager.ts';
import { checkWrittenDisk, readWrittenDisk } from './verify-disk.ts';

/** One step of a deploy: what it does to the host, and how long it may take as a whole. */
export interface DeployStepDefinition {
  readonly name: DeployStep;
  /** Seconds for the whole step; its commands have their own, shorter, limits. */
  timeoutSeconds(timeouts: DeployTimeouts): number;
  /** True when the host is past this step already: it is not entered. */
  skip?(ctx: DeployContext): boolean;
  /** Shown as the step begins. */
  detail?(ctx: DeployContext): string;
  run(ctx: DeployContext): Promise<void>;
}

const SLACK_SECONDS = 60;

/**
 * Find the host, get it into its imager, check everything, restore, verify the disk, reboot, and see
 * it come back as itself with the new version. Run again after any failure, it picks up from where
 * the host is. A dry run runs these same steps against a recording of what they would send.
 */
export const DEPLOY_STEP_LIST: readonly DeployStepDefinition[] = [
  { name: 'locate', timeoutSeconds: (t) => 2 * t.locate + SLACK_SECONDS, run: locateHost },
  {
    name: 'to-imager',
    timeoutSeconds: (t) => t.boot + t.locate + SLACK_SECONDS,
    skip: (ctx) => ctx.imager !== undefined,
    run: toImager,
  },
  { name: 'preflight', timeoutSeconds: (t) => t.preflight + 2 * t.locate + 120, run: preflight },
  {
    name: 'restore',
    timeoutSeconds: (t) => t.restore + SLACK_SECONDS,
    detail: (ctx) => {
      const version = needed(ctx.manifest, 'manifest').version;
      return ctx.restoredAlready ? `${version} was restored already` : version;
    },
    run: restore,
  },
  { name: 'verify', timeoutSeconds: (t) => t.verify + SLACK_SECONDS, run: verify },
  { name: 'reboot', timeoutSeconds: () => SLACK_SECONDS, run: reboot },
  {
    name: 'came-back',
    timeoutSeconds: (t) => t.boot + t.locate + SLACK_SECONDS,
    detail: (ctx) => `waiting for ${ctx.target.host} at ${describeEndpoint(ctx.target.node)}`,
    run: cameBack,
  },
];

async function toImager(ctx: DeployContext): Promise<void> {
  const { target, settings, port } = ctx;
  const route = await sendToImager(needed(ctx.node, 'node'), settings.timeouts.locate);
  ctx.note(`${route}; waiting for ${target.imagerName}`);
  ctx.imager = ctx.keep(
    await waitForName(
      port,
      target.imager,
      target.imagerName,
      settings.ssh,
      settings.timeouts.boot,
      settings.timeouts.locate,
    ),
  );
}

async function preflight(ctx: DeployContext): Promise<void> {
  ctx.manifest = await preflightImager(ctx, needed(ctx.imager, 'imager'));
}

async function restore(ctx: DeployContext): Promise<void> {
  const { target, settings, port, image } = ctx;
  const version = needed(ctx.manifest, 'manifest').version;
  if (ctx.restoredAlready) return;
  const run = await runRestoreJob(
    port,
    needed(ctx.imager, 'imager'),
    target.host,
    version,
    image,
    target.disk,
    settings.logDir,
    (percent) => ctx.progress(percent),
    settings.timeouts.restore,
  );
  ctx.logFile = run.logFile;
}

async function verify(ctx: DeployContext): Promise<void> {
  const { target, settings, image } = ctx;
  const manifest = needed(ctx.manifest, 'manifest');
  const written = await readWrittenDisk(
    needed(ctx.imager, 'imager'),
    manifest,
    image,
    target.disk,
    settings.timeouts.verify,
  );
  const problems = checkWrittenDisk(written, {
    host: target.host,
    version: manifest.version,
    placeholder: settings.placeholder,
  });
  if (problems.length > 0)
    throw new StepError(
      'verify',
      `the disk ${target.disk} on ${target.imagerName} does not hold ${manifest.version} as it should:`,
      [...problems, `${target.host} stays in its imager; deploy again to restore once more.`],
    );
}

async function reboot(ctx: DeployContext): Promise<void> {
  await rebootNow(needed(ctx.imager, 'imager'));
}

async function cameBack(ctx: DeployContext): Promise<void> {
  const { target, settings, port } = ctx;
  const version = needed(ctx.manifest, 'manifest').version;
  // Its first boot made new SSH host keys: the key it shows now is taken (we just re-imaged it)
  // and recorded once it has proved to be this host with this image.
  let offered: Parameters<HostKeyAcceptor>[0] | undefined;
  const acceptHostKey: HostKeyAcceptor = (key) => {
    offered = key;
    return true;
  };
  const node = ctx.keep(
    await waitForName(
      port,
      target.node,
      target.host,
      { ...settings.ssh, acceptHostKey },
      settings.timeouts.boot,
      settings.timeouts.locate,
      () => (offered = undefined),
    ),
  );
  const running = await runningVersion(node, settings.timeouts.locate);
  if (running !== version)
    throw new StepError(
      'came-back',
      `${target.host} came back running ${running ?? 'an unknown version'}, not ${version}.`,
      ['Did it boot from another disk? Check its boot order and USB disk.'],
    );
  if (offered) {
    const knownHostsFile = resolveSshSettings(settings.ssh).knownHostsFile;
    await port.recordHostKey(knownHostsFile, target.node, offered, `pi-lab-deploy:${target.host}`);
    ctx.hostKey = offered;
    ctx.note(`its new host key ${fingerprintSha256(offered.keyBlob)} is recorded in ${knownHostsFile}`);
  }
}

/** The version a running host's marker names; undefined when it has none pi-lab wrote. */
async function runningVersion(node: RemoteHost, timeoutSeconds: number): Promise<string | undefined> {
  const marker = await node.exec(readFileCommand(path.posix.join('/boot/firmware', IMAGE_MARKER_PATH)), {
    timeoutSeconds,
  });
  if (marker.exitCode !== 0) return undefined;
  try {
    return parseMarker(marker.stdout, IMAGE_MARKER_PATH).version;
  } catch {
    return undefined;
  }
}

/** What an earlier step found; missing only if the step list itself is out of order. */
function needed<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`deploy step order: no ${what} yet`);
  return value;
}

import path from 'node:path';
import { describeError, InterruptedError, UserError } from '../errors.ts';
import { interruptionSignal } from '../exec/run-command.ts';
import { fingerprintSha256 } from '../ssh/fingerprint.ts';
import { recordHostKey } from '../ssh/record-host-key.ts';
import { describeEndpoint, type HostKeyAcceptor, resolveSshSettings } from '../ssh/ssh-endpoint.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import { checkImager } from './check-imager.ts';
import type { DeployOutcome, DeployReporter, DeployStep } from './deploy-events.ts';
import { StepError } from './deploy-events.ts';
import type { DeploySettings } from './deploy-settings.ts';
import type { DeployTarget } from './deploy-target.ts';
import { gatherImagerFacts } from './gather-imager-facts.ts';
import { imageLocation } from './image-location.ts';
import { askName, waitForName } from './reach-host.ts';
import { asRoot, mountShare, readFileCommand } from './remote-commands.ts';
import { readJobState, runRestoreJob } from './restore-job.ts';
import { rebootNow, sendToImager } from './send-to-imager.ts';
import { checkWrittenDisk, readWrittenDisk } from './verify-disk.ts';
import { type Manifest, MANIFEST_FILE, parseManifest } from '../image/manifest.ts';
import { IMAGE_MARKER_PATH, parseMarker } from '../image/marker.ts';

/**
 * One host, step by step, each with a timeout and a message naming it: find it, get it into its
 * imager, check everything, restore, verify the disk, reboot, and see it come back as itself with
 * the new version. Run again after any failure, it picks up from where the host is.
 */
export async function deployHost(
  target: DeployTarget,
  settings: DeploySettings,
  reporter: DeployReporter,
): Promise<DeployOutcome> {
  const started = performance.now();
  let step: DeployStep = 'locate';
  let logFile: string | undefined;
  let version: string | undefined;
  const steps: Partial<Record<DeployStep, number>> = {};
  let stepStarted = started;
  const closeStep = (): void => {
    const now = performance.now();
    steps[step] = (steps[step] ?? 0) + (now - stepStarted) / 1000;
    stepStarted = now;
  };
  const enter = (next: DeployStep, detail?: string): void => {
    closeStep();
    step = next;
    reporter.step(target.host, next, detail);
  };
  const sessions: SshSession[] = [];
  const keep = (session: SshSession): SshSession => {
    sessions.push(session);
    return session;
  };
  try {
    reporter.step(target.host, 'locate');
    let imager = await locate(target, settings, (session) => keep(session));
    if (imager === 'node') {
      const node = sessions.at(-1);
      if (!node) throw new Error('locate returned no session');
      enter('to-imager');
      const route = await sendToImager(node, settings.timeouts.locate);
      reporter.step(target.host, 'to-imager', `${route}; waiting for ${target.imagerName}`);
      imager = keep(
        await waitForName(
          target.imager,
          target.imagerName,
          settings.ssh,
          settings.timeouts.boot,
          settings.timeouts.locate,
        ),
      );
    }
    const session = imager;

    enter('preflight');
    const image = imageLocation(target.imageRoot, target.host, settings.version);
    const job = await readJobState(session, target.host, settings.timeouts.locate);
    let manifest: Manifest;
    if (job.kind === 'running') {
      reporter.step(target.host, 'preflight', `a restore of ${job.version} is under way: following it`);
      manifest = await readManifest(session, image.dir, settings.timeouts.locate);
    } else {
      manifest = await preflight(session, target, image, settings);
    }
    version = manifest.version;
    const doneAlready = job.kind === 'done' && job.exitCode === 0 && job.version === version;

    enter('restore', doneAlready ? `${version} was restored already` : version);
    if (!doneAlready) {
      const run = await runRestoreJob(
        session,
        target.host,
        version,
        image,
        target.disk,
        settings.logDir,
        (percent) => reporter.progress(target.host, percent),
        settings.timeouts.restore,
      );
      logFile = run.logFile;
    }

    enter('verify');
    const written = await readWrittenDisk(session, manifest, image, target.disk, settings.timeouts.verify);
    const problems = checkWrittenDisk(written, {
      host: target.host,
      version,
      placeholder: settings.placeholder,
    });
    if (problems.length > 0)
      throw new StepError(
        'verify',
        `the disk ${target.disk} on ${target.imagerName} does not hold ${version} as it should:`,
        [...problems, `${target.host} stays in its imager; deploy again to restore once more.`],
      );

    enter('reboot');
    await rebootNow(session);

    enter('came-back', `waiting for ${target.host} at ${describeEndpoint(target.node)}`);
    // Its first boot made new SSH host keys: the key it shows now is taken (we just re-imaged it)
    // and recorded once it has proved to be this host with this image.
    let offered: Parameters<HostKeyAcceptor>[0] | undefined;
    const acceptHostKey: HostKeyAcceptor = (key) => {
      offered = key;
      return true;
    };
    const node = keep(
      await waitForName(
        target.node,
        target.host,
        { ...settings.ssh, acceptHostKey },
        settings.timeouts.boot,
        settings.timeouts.locate,
        () => (offered = undefined),
      ),
    );
    const marker = await node.exec(readFileCommand(path.posix.join('/boot/firmware', IMAGE_MARKER_PATH)), {
      timeoutSeconds: settings.timeouts.locate,
    });
    const running = marker.exitCode === 0 ? runningVersion(marker.stdout) : undefined;
    if (running !== version)
      throw new StepError(
        'came-back',
        `${target.host} came back running ${running ?? 'an unknown version'}, not ${version}.`,
        ['Did it boot from another disk? Check its boot order and USB disk.'],
      );
    if (offered) {
      const knownHostsFile = resolveSshSettings(settings.ssh).knownHostsFile;
      await recordHostKey(knownHostsFile, target.node, offered, `pi-lab-deploy:${target.host}`);
      reporter.step(
        target.host,
        'came-back',
        `its new host key ${fingerprintSha256(offered.keyBlob)} is recorded in ${knownHostsFile}`,
      );
    }
    closeStep();
    const outcome: DeployOutcome = {
      host: target.host,
      status: 'deployed',
      version,
      seconds: elapsed(started),
      steps,
      ...(offered ? { hostKey: fingerprintSha256(offered.keyBlob) } : {}),
      ...(logFile ? { logFile } : {}),
    };
    reporter.finished(outcome);
    return outcome;
  } catch (error) {
    if (error instanceof InterruptedError || interruptionSignal()) throw error;
    const failedStep = error instanceof StepError ? error.step : step;
    closeStep();
    const outcome: DeployOutcome = {
      host: target.host,
      status: 'failed',
      step: failedStep,
      error: describeStepError(error),
      seconds: elapsed(started),
      steps,
      ...(version ? { version } : {}),
      ...(logFile ? { logFile } : {}),
    };
    reporter.finished(outcome);
    return outcome;
  } finally {
    for (const session of sessions) await session.close().catch(() => undefined);
  }
}

/** `'node'` with its session kept by `keep`, or the imager's session; throws when neither answers. */
async function locate(
  target: DeployTarget,
  settings: DeploySettings,
  keep: (session: SshSession) => SshSession,
): Promise<'node' | SshSession> {
  const attempt = (endpoint: DeployTarget['node']) =>
    askName(endpoint, settings.ssh, settings.timeouts.locate).then(
      (answer) => answer,
      (error: unknown) => error,
    );
  const [asNode, asImager] = await Promise.all([attempt(target.node), attempt(target.imager)]);
  const found = [asNode, asImager].filter(
    (a): a is Awaited<ReturnType<typeof askName>> => !(a instanceof Error),
  );
  const node = found.find((a) => a.hostname === target.host);
  const imager = found.find((a) => a.hostname === target.imagerName);
  for (const answer of found) if (answer !== node && answer !== imager) await answer.session.close();
  if (node) {
    if (imager) await imager.session.close();
    keep(node.session);
    return 'node';
  }
  if (imager) return keep(imager.session);
  const why = (answer: unknown, endpoint: DeployTarget['node'], name: string): string =>
    answer instanceof Error
      ? `as ${name} at ${describeEndpoint(endpoint)}: ${describeError(answer).split('\n')[0] ?? ''}`
      : `at ${describeEndpoint(endpoint)} it answers as ${(answer as { hostname: string }).hostname}, not ${name}`;
  const permanent = [asNode, asImager].find(
    (a) => a instanceof UserError && /host key|cannot log in|no SSH key/i.test(a.message),
  );
  if (permanent instanceof UserError) throw permanent;
  throw new StepError('locate', `${target.host} answers neither as itself nor as its imager:`, [
    why(asNode, target.node, target.host),
    why(asImager, target.imager, target.imagerName),
    'Is it powered and on the network? (lab file: hosts[].ssh and hosts[].imager)',
  ]);
}

async function preflight(
  session: SshSession,
  target: DeployTarget,
  image: ReturnType<typeof imageLocation>,
  settings: DeploySettings,
): Promise<Manifest> {
  const user = session.endpoint.user;
  if (target.nfs) {
    const mounted = await session.exec(
      asRoot(user, { program: 'findmnt', args: ['-n', '-o', 'SOURCE', target.imageRoot] }),
      {
        timeoutSeconds: settings.timeouts.locate,
      },
    );
    if (mounted.stdout.trim() !== target.nfs) {
      const mount = await session.exec(asRoot(user, mountShare(target.nfs, target.imageRoot)), {
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
  }
  const facts = await gatherImagerFacts(
    session,
    target,
    image,
    target.imagerName,
    settings.timeouts.preflight,
  );
  const problems = checkImager(target, facts);
  if (problems.length > 0)
    throw new StepError('preflight', `${target.host}: not restoring, nothing was written:`, problems);
  if (!('manifest' in facts.image)) throw new Error('checkImager passed without a manifest');
  return facts.image.manifest;
}

async function readManifest(session: SshSession, dir: string, timeoutSeconds: number): Promise<Manifest> {
  const file = path.posix.join(dir, MANIFEST_FILE);
  const result = await session.run(readFileCommand(file), { timeoutSeconds });
  return parseManifest(result.stdout, `${session.describe()}:${file}`);
}

/** The version a running host's marker names; undefined when it has none pi-lab wrote. */
function runningVersion(markerText: string): string | undefined {
  try {
    return parseMarker(markerText, IMAGE_MARKER_PATH).version;
  } catch {
    return undefined;
  }
}

function describeStepError(error: unknown): string {
  if (error instanceof StepError)
    return [error.message, ...error.details.map((d) => `  - ${d.replace(/\n/g, '\n    ')}`)].join('\n');
  return describeError(error);
}

function elapsed(started: number): number {
  return (performance.now() - started) / 1000;
}

import { describeError, InterruptedError } from '../errors.ts';
import { interruptionSignal } from '../exec/run-command.ts';
import { fingerprintSha256 } from '../ssh/fingerprint.ts';
import type { DeployContext } from './deploy-context.ts';
import {
  type DeployOutcome,
  type DeployReporter,
  type DeployStep,
  STEP_TITLES,
  StepError,
} from './deploy-events.ts';
import type { DeploySettings } from './deploy-settings.ts';
import { DEPLOY_STEP_LIST, type DeployStepDefinition } from './deploy-steps.ts';
import type { DeployTarget } from './deploy-target.ts';
import { imageLocation } from './image-location.ts';
import { type RemoteHost, type RemotePort, SSH_PORT } from './remote-port.ts';

/**
 * Runs one host through the step list: owns the timing of each step, its progress events, its time
 * limit, turning a failure into the outcome that names the step, and closing every session.
 */
export async function deployHost(
  target: DeployTarget,
  settings: DeploySettings,
  reporter: DeployReporter,
  port: RemotePort = SSH_PORT,
  steps: readonly DeployStepDefinition[] = DEPLOY_STEP_LIST,
): Promise<DeployOutcome> {
  const started = performance.now();
  const seconds: Partial<Record<DeployStep, number>> = {};
  const sessions: RemoteHost[] = [];
  let current: DeployStep = steps[0]?.name ?? 'locate';
  const ctx: DeployContext = {
    target,
    settings,
    port,
    image: imageLocation(target.imageRoot, target.host, settings.version),
    note: (detail) => reporter.step(target.host, current, detail),
    progress: (percent) => reporter.progress(target.host, percent),
    keep: (session) => {
      sessions.push(session);
      return session;
    },
  };
  try {
    for (const step of steps) {
      if (step.skip?.(ctx)) continue;
      current = step.name;
      reporter.step(target.host, step.name, step.detail?.(ctx));
      const stepStarted = performance.now();
      try {
        await withinTime(step, step.run(ctx), step.timeoutSeconds(settings.timeouts));
      } finally {
        seconds[step.name] = (performance.now() - stepStarted) / 1000;
      }
    }
    const outcome: DeployOutcome = {
      host: target.host,
      status: 'deployed',
      ...(ctx.manifest ? { version: ctx.manifest.version } : {}),
      seconds: elapsed(started),
      steps: seconds,
      ...(ctx.hostKey ? { hostKey: fingerprintSha256(ctx.hostKey.keyBlob) } : {}),
      ...(ctx.logFile ? { logFile: ctx.logFile } : {}),
    };
    reporter.finished(outcome);
    return outcome;
  } catch (error) {
    if (error instanceof InterruptedError || interruptionSignal()) throw error;
    const outcome: DeployOutcome = {
      host: target.host,
      status: 'failed',
      step: error instanceof StepError ? error.step : current,
      error: describeStepError(error),
      seconds: elapsed(started),
      steps: seconds,
      ...(ctx.manifest ? { version: ctx.manifest.version } : {}),
      ...(ctx.logFile ? { logFile: ctx.logFile } : {}),
    };
    reporter.finished(outcome);
    return outcome;
  } finally {
    for (const session of sessions) await session.close().catch(() => undefined);
  }
}

/** The step's own commands have limits; this one holds for the step as a whole. */
async function withinTime(
  step: DeployStepDefinition,
  work: Promise<void>,
  limitSeconds: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new StepError(step.name, `${STEP_TITLES[step.name]} took longer than ${limitSeconds} s.`, [
            'Deploy again: it picks up from where the host is.',
          ]),
        ),
      limitSeconds * 1000,
    );
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
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

import { describeError, InterruptedError } from '../errors.ts';
import { interruptedSignal } from '../exec/run-command.ts';
import { describeEndpoint } from '../ssh/ssh-endpoint.ts';
import type { RemoteHost, RemotePort } from './remote-port.ts';
import { StepError } from './deploy-events.ts';
import type { ImageLocation } from './image-location.ts';
import {
  followRestoreJob,
  ocsRestoreArgs,
  readRestoreLogPath,
  restoreJobState,
  startRestoreJob,
} from './remote-commands.ts';

export type JobState =
  | { readonly kind: 'none' }
  | { readonly kind: 'running'; readonly version: string }
  | { readonly kind: 'done'; readonly exitCode: number; readonly version: string };

export function parseJobState(text: string): JobState {
  const [kind, first = '', second = ''] = text.trim().split(/\s+/);
  if (kind === 'running') return { kind, version: first };
  if (kind === 'done') return { kind, exitCode: Number(first), version: second };
  return { kind: 'none' };
}

export async function readJobState(
  session: RemoteHost,
  host: string,
  timeoutSeconds: number,
): Promise<JobState> {
  const result = await session.root.run(restoreJobState(host), { timeoutSeconds });
  return parseJobState(result.stdout);
}

/** partclone's progress, as ocs-sr -nogui prints it. */
const PROGRESS = /Completed:\s*([\d.]+)%/g;

export interface RestoreRun {
  readonly logFile: string;
}

/**
 * Starts the restore on the imager (unless it runs already) and follows its log to the end,
 * keeping the full log locally and reporting partclone's progress. Fails naming the exit status
 * and the log's last lines.
 */
export async function runRestoreJob(
  port: RemotePort,
  session: RemoteHost,
  host: string,
  version: string,
  image: ImageLocation,
  disk: string,
  logDir: string,
  onProgress: (percent: number) => void,
  timeoutSeconds: number,
): Promise<RestoreRun> {
  await session.root.run(startRestoreJob(host, version, ocsRestoreArgs(image.root, image.name, disk)), {
    timeoutSeconds: 60,
  });
  const log = await port.openLog(
    logDir,
    `restore-${host}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`,
  );
  const logFile = log.file;
  let tail = '';
  let lastPercent = -1;
  try {
    const followed = await session.root
      .exec(followRestoreJob(host), {
        timeoutSeconds,
        signal: interruptedSignal,
        onStdout: (chunk) => {
          log.write(chunk);
          tail = (tail + chunk).slice(-8192);
          for (const match of chunk.matchAll(PROGRESS)) {
            const percent = Math.floor(Number(match[1]));
            if (percent !== lastPercent) {
              lastPercent = percent;
              onProgress(percent);
            }
          }
        },
      })
      .catch((error: unknown) => {
        if (error instanceof InterruptedError || interruptedSignal.aborted) throw error;
        const where = describeEndpoint(session.endpoint);
        const why = describeError(error).split('\n')[0] ?? '';
        throw new StepError(
          'restore',
          /timed out/.test(why)
            ? `the restore on ${where} did not finish in time: ${why}`
            : `lost the connection to ${where} while following the restore: ${why}`,
          [
            `The restore goes on there on its own (log on the imager: ${readRestoreLogPath(host)}); the host stays in its imager.`,
            `Deploy ${host} again: it follows the running restore, or checks the finished one, and goes on from there.`,
          ],
        );
      });
    const status = /pi-lab-status (\S+)/.exec(followed.stdout)?.[1];
    if (status !== '0') {
      throw new StepError(
        'restore',
        `ocs-sr failed on the imager (exit ${status ?? 'unknown'}); full log: ${logFile} (on the imager: ${readRestoreLogPath(host)})`,
        [
          lastLines(tail),
          'The disk may be half-written: the host stays in its imager. Fix the cause and deploy again.',
        ],
      );
    }
    return { logFile };
  } finally {
    await log.end();
  }
}

function lastLines(text: string): string {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !/Elapsed:|Completed:/.test(line))
    .slice(-12)
    .join('\n');
}

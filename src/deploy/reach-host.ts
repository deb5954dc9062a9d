import { describeError, UserError } from '../errors.ts';
import { interruptedSignal } from '../exec/run-command.ts';
import { describeEndpoint, type SshEndpoint } from '../ssh/ssh-endpoint.ts';
import type { ReachSettings, RemoteHost, RemotePort } from './remote-port.ts';
import { readHostname } from './remote-commands.ts';

export interface Answer {
  readonly session: RemoteHost;
  readonly hostname: string;
}

/** One attempt: connects and asks the host its name. */
export async function askName(
  port: RemotePort,
  endpoint: SshEndpoint,
  settings: ReachSettings,
  timeoutSeconds: number,
): Promise<Answer> {
  const session = await port.connect(endpoint, { ...settings, connectTimeoutSeconds: timeoutSeconds });
  try {
    const result = await session.run(readHostname(), { timeoutSeconds });
    return { session, hostname: result.stdout.trim() };
  } catch (error) {
    await session.close();
    throw error;
  }
}

/**
 * Waits until `endpoint` answers as `name`: after a reboot the host flips between its two names,
 * and the old one may still answer for a while. Refusals that waiting cannot fix (an unknown or
 * changed host key, a refused login) fail at once.
 */
export async function waitForName(
  port: RemotePort,
  endpoint: SshEndpoint,
  name: string,
  settings: ReachSettings,
  timeoutSeconds: number,
  attemptSeconds: number,
  beforeAttempt?: () => void,
): Promise<RemoteHost> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let last = 'no answer yet';
  for (;;) {
    if (interruptedSignal.aborted) throw interruptedSignal.reason;
    const remaining = Math.max(1, Math.min(attemptSeconds, (deadline - Date.now()) / 1000));
    beforeAttempt?.();
    try {
      const answer = await askName(port, endpoint, settings, remaining);
      if (answer.hostname === name) return answer.session;
      last = `it answers as ${answer.hostname}`;
      await answer.session.close();
    } catch (error) {
      if (isPermanent(error)) throw error;
      last = describeError(error).split('\n')[0] ?? String(error);
    }
    if (Date.now() >= deadline)
      throw new UserError(
        `${name} did not answer at ${describeEndpoint(endpoint)} within ${timeoutSeconds} s (${last}).`,
      );
    await port.pause(Math.min(2000, Math.max(0, deadline - Date.now())));
  }
}

/** Host key problems and refused logins do not go away by waiting. */
function isPermanent(error: unknown): boolean {
  if (!(error instanceof UserError)) return false;
  return /host key|cannot log in|no SSH key/i.test(error.message);
}

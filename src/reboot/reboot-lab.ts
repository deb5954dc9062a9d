import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { IMAGE_MARKER_PATH, markerFromBase64 } from '../image/marker.ts';
import type { Lab, LabHost } from '../lab/lab-types.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { hostEndpoints, sshSettings } from '../ssh/lab-ssh.ts';
import { probeSshPort } from '../ssh/probe-ssh-port.ts';
import { requestPowerState } from '../ssh/request-power-state.ts';
import type { SudoPassword } from '../ssh/sudo-password.ts';
import type { SshEndpoint } from '../ssh/ssh-endpoint.ts';
import { mapBounded } from '../values/map-bounded.ts';
import { isRouter } from '../lab/router-host.ts';

export interface HostReboot {
  readonly host: string;
  /** back: up again as itself with the version it ran; skipped: not running as itself, not touched. */
  readonly result: 'back' | 'failed' | 'skipped';
  readonly detail: string;
  readonly version?: string;
  readonly seconds: number;
}

export interface RebootOptions {
  readonly lab: Lab;
  readonly hosts: readonly LabHost[];
  /** How long each host may take to come back. */
  readonly timeoutSeconds: number;
  /** For sudo on hosts where it asks for a password. */
  readonly sudo: SudoPassword;
  readonly onHost?: (outcome: HostReboot) => void;
}

interface Running {
  readonly hostname: string;
  /** The kernel's id of this boot: a new one proves the host really rebooted. */
  readonly bootId: string;
  readonly version?: string;
}

const POLL_MS = 1000;

/**
 * The other hosts at once, then the router alone, once they are back: the nodes are reached through
 * it, so it never goes away while one of them is still on its way back. After the router, every
 * node is checked to answer through it again.
 */
export async function rebootLab(options: RebootOptions): Promise<HostReboot[]> {
  const others = options.hosts.filter((host) => !isRouter(host));
  const routers = options.hosts.filter(isRouter);
  const report = (outcome: HostReboot): HostReboot => {
    options.onHost?.(outcome);
    return outcome;
  };
  const outcomes = await mapBounded(others, 8, async (host) => report(await rebootHost(options, host)));
  for (const router of routers) {
    const outcome = await rebootHost(options, router);
    const back = outcomes.filter((o) => o.result === 'back').map((o) => o.host);
    outcomes.push(
      report(outcome.result === 'back' ? await nodesAnswerAgain(options, outcome, back) : outcome),
    );
  }
  return outcomes;
}

async function rebootHost(options: RebootOptions, host: LabHost): Promise<HostReboot> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const { node, imager, imagerName } = hostEndpoints(options.lab, host);
  let before: Running;
  try {
    before = await readRunning(node, options);
  } catch (error) {
    const inImager = await readRunning(imager, options).catch(() => undefined);
    const why =
      inImager?.hostname === imagerName
        ? `it runs its imager ${imagerName} (deploy it, or reboot it from there)`
        : `it does not answer (${describeError(error).split('\n')[0] ?? ''})`;
    return { host: host.name, result: 'skipped', detail: `not rebooted: ${why}`, seconds: 0 };
  }
  if (before.hostname !== host.name)
    return {
      host: host.name,
      result: 'skipped',
      detail: `not rebooted: it answers as ${before.hostname} (in its imager?)`,
      seconds: 0,
    };
  try {
    await requestPowerState(node, sshSettings(options.lab.ssh), options.sudo, 'reboot');
  } catch (error) {
    const why = describeError(error).split('\n')[0] ?? '';
    return {
      host: host.name,
      result: 'failed',
      detail: `could not ask it to reboot: ${why}`,
      seconds: seconds(),
    };
  }
  const deadline = performance.now() + options.timeoutSeconds * 1000;
  let last = 'it has not gone down yet';
  while (performance.now() < deadline) {
    await sleep(POLL_MS);
    const now = await readRunning(node, options).catch((error: unknown) => {
      last = describeError(error).split('\n')[0] ?? '';
      return undefined;
    });
    if (!now || now.bootId === before.bootId) continue;
    if (now.hostname !== host.name) {
      last = `it came back as ${now.hostname}`;
      continue;
    }
    if (before.version !== undefined && now.version !== before.version)
      return {
        host: host.name,
        result: 'failed',
        detail: `it came back running ${now.version ?? 'no pi-lab image'}, not ${before.version}`,
        seconds: seconds(),
      };
    return {
      host: host.name,
      result: 'back',
      detail: `back as itself after ${seconds().toFixed(1)} s`,
      ...(now.version ? { version: now.version } : {}),
      seconds: seconds(),
    };
  }
  return {
    host: host.name,
    result: 'failed',
    detail: `not back as itself within ${options.timeoutSeconds} s (${last})`,
    seconds: seconds(),
  };
}

/** The hosts that were back before the router went away must answer through it again. */
async function nodesAnswerAgain(
  options: RebootOptions,
  router: HostReboot,
  backBefore: readonly string[],
): Promise<HostReboot> {
  const nodes = options.lab.hosts.filter((host) => backBefore.includes(host.name));
  const settings = sshSettings(options.lab.ssh);
  const answers = await mapBounded(nodes, 8, async (host) => {
    const { node } = hostEndpoints(options.lab, host);
    return (await probeSshPort(node, settings, 5)).kind === 'banner';
  });
  const lost = nodes.filter((_, i) => !answers[i]).map((host) => host.name);
  return lost.length === 0
    ? { ...router, detail: `${router.detail}; every node answers through it again` }
    : { ...router, detail: `${router.detail}; not answering through it yet: ${lost.join(', ')}` };
}

/** One round trip: its name, its boot id and the version its marker names. */
async function readRunning(endpoint: SshEndpoint, options: RebootOptions): Promise<Running> {
  const session = await connectSsh(endpoint, {
    ...sshSettings(options.lab.ssh),
    connectTimeoutSeconds: 5,
  });
  try {
    const script = [
      'hostname',
      'cat /proc/sys/kernel/random/boot_id',
      `base64 -w0 /boot/firmware${IMAGE_MARKER_PATH} 2>/dev/null; echo`,
    ].join('\n');
    const result = await session.run(command('sh', ['-c', script]), { timeoutSeconds: 10 });
    const [hostname = '', bootId = '', marker = ''] = result.stdout.split('\n').map((line) => line.trim());
    const version = markerFromBase64(marker)?.version;
    return { hostname, bootId, ...(version ? { version } : {}) };
  } finally {
    await session.close();
  }
}

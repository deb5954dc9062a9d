import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.ts';
import type { Lab, LabHost } from '../lab/lab-types.ts';
import { hostEndpoints, sshSettings } from '../ssh/lab-ssh.ts';
import { probeSshPort } from '../ssh/probe-ssh-port.ts';
import { requestPowerState } from '../ssh/request-power-state.ts';
import type { SudoPassword } from '../ssh/sudo-password.ts';
import { describeEndpoint, type SshEndpoint } from '../ssh/ssh-endpoint.ts';
import { mapBounded } from '../values/map-bounded.ts';
import { isRouter } from '../lab/router-host.ts';

export interface HostShutdown {
  readonly host: string;
  /** down: confirmed down after we asked; was-down: nothing answered already; failed: still answers. */
  readonly result: 'down' | 'was-down' | 'failed' | 'skipped';
  readonly detail: string;
  readonly seconds: number;
}

export interface ShutdownOptions {
  readonly lab: Lab;
  readonly hosts: readonly LabHost[];
  /** How long each host may take to go down once asked. */
  readonly timeoutSeconds: number;
  /** For sudo on hosts where it asks for a password. */
  readonly sudo: SudoPassword;
  readonly onHost?: (outcome: HostShutdown) => void;
}

const POLL_MS = 1000;
const PROBE_SECONDS = 3;

/**
 * Ordered and checked, not timed: the nodes at once, each confirmed down (SSH gone: the port closed
 * or silent) before the next tier; then hosts without a recipe (data1); the router last, since the
 * nodes are reached through it. A tier that does not go down stops the ones after it.
 */
export async function shutdownLab(options: ShutdownOptions): Promise<HostShutdown[]> {
  const tiers = [
    options.hosts.filter((host) => host.recipe !== undefined && !isRouter(host)),
    options.hosts.filter((host) => host.recipe === undefined),
    options.hosts.filter(isRouter),
  ];
  const outcomes: HostShutdown[] = [];
  let blockedBy: string[] = [];
  for (const tier of tiers) {
    if (blockedBy.length > 0) {
      for (const host of tier) {
        const skipped: HostShutdown = {
          host: host.name,
          result: 'skipped',
          detail: `left running: ${blockedBy.join(', ')} did not go down first`,
          seconds: 0,
        };
        outcomes.push(skipped);
        options.onHost?.(skipped);
      }
      continue;
    }
    const done = await mapBounded(tier, 8, async (host) => {
      const outcome = await shutdownHost(options, host);
      options.onHost?.(outcome);
      return outcome;
    });
    outcomes.push(...done);
    blockedBy = done.filter((outcome) => outcome.result === 'failed').map((outcome) => outcome.host);
  }
  return outcomes;
}

async function shutdownHost(options: ShutdownOptions, host: LabHost): Promise<HostShutdown> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const { node, imager } = hostEndpoints(options.lab, host);
  const settings = sshSettings(options.lab.ssh);
  const running: SshEndpoint[] = [];
  for (const endpoint of uniqueEndpoints([node, imager]))
    if ((await probeSshPort(endpoint, settings, PROBE_SECONDS)).kind === 'banner') running.push(endpoint);
  if (running.length === 0)
    return {
      host: host.name,
      result: 'was-down',
      detail: 'nothing answered on its SSH port',
      seconds: seconds(),
    };
  for (const endpoint of running) {
    try {
      await requestPowerState(endpoint, sshSettings(options.lab.ssh), options.sudo, 'poweroff');
    } catch (error) {
      return {
        host: host.name,
        result: 'failed',
        detail: `could not ask it to power off at ${describeEndpoint(endpoint)}: ${describeError(error).split('\n')[0] ?? ''}`,
        seconds: seconds(),
      };
    }
  }
  const deadline = performance.now() + options.timeoutSeconds * 1000;
  for (;;) {
    const answers = await Promise.all(
      running.map((endpoint) => probeSshPort(endpoint, settings, PROBE_SECONDS)),
    );
    if (answers.every((answer) => answer.kind !== 'banner'))
      return {
        host: host.name,
        result: 'down',
        detail: 'its SSH port no longer answers',
        seconds: seconds(),
      };
    if (performance.now() > deadline)
      return {
        host: host.name,
        result: 'failed',
        detail: `still answers SSH ${options.timeoutSeconds} s after it was asked to power off`,
        seconds: seconds(),
      };
    await sleep(POLL_MS);
  }
}

function uniqueEndpoints(endpoints: readonly SshEndpoint[]): SshEndpoint[] {
  const seen = new Set<string>();
  return endpoints.filter((endpoint) => {
    const key = describeEndpoint(endpoint);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

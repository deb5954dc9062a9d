import type { Lab, LabHost, LabPlug } from '../lab/lab-types.ts';
import { hostEndpoints, sshSettings } from '../ssh/lab-ssh.ts';
import { probeSshPort } from '../ssh/probe-ssh-port.ts';
import { describeEndpoint } from '../ssh/ssh-endpoint.ts';
import { mapBounded } from '../values/map-bounded.ts';
import { plugConnection } from './lab-plugs.ts';
import { openPlug, type PlugDriver } from './plug-driver.ts';

export type PowerAction = 'on' | 'off' | 'cycle' | 'status';

export interface PlugOutcome {
  readonly plug: string;
  readonly feeds: readonly string[];
  /** What the plug is now (after the action), when it could be read. */
  readonly on?: boolean;
  /** What was done, or why nothing was. */
  readonly result: string;
  readonly ok: boolean;
  /** Hosts it feeds that still answer SSH (off and cycle refuse then, unless forced). */
  readonly answering?: readonly string[];
}

export interface PowerOptions {
  readonly lab: Lab;
  readonly action: PowerAction;
  readonly plugs: readonly LabPlug[];
  /** Cut power although a host it feeds still answers. */
  readonly force: boolean;
  readonly offSeconds: number;
  /** Seconds for each probe of a host. */
  readonly probeSeconds: number;
  /** Waiting out a cycle on a plug without a timer of its own. */
  readonly pause?: (milliseconds: number) => Promise<void>;
}

/**
 * Each plug in turn. Power is never cut while a host the plug feeds still answers SSH (its own
 * system or its imager), unless forced: a host that answers can be shut down properly first.
 */
export async function runPowerAction(options: PowerOptions): Promise<PlugOutcome[]> {
  const outcomes: PlugOutcome[] = [];
  for (const plug of options.plugs) outcomes.push(await onePlug(options, plug));
  return outcomes;
}

async function onePlug(options: PowerOptions, plug: LabPlug): Promise<PlugOutcome> {
  const { action, lab } = options;
  const driver = openPlug(plugConnection(plug));
  const base = { plug: plug.name, feeds: plug.feeds };
  if (action === 'status') return { ...base, on: await driver.isOn(), result: 'read', ok: true };
  if (action === 'on') {
    await driver.switchTo(true);
    return { ...base, on: true, result: 'switched on', ok: true };
  }
  const answering = await answeringHosts(lab, plug, options.probeSeconds);
  if (answering.length > 0 && !options.force)
    return {
      ...base,
      on: await driver.isOn(),
      answering: answering.map((a) => a.host),
      ok: false,
      result: refusal(action, answering),
    };
  const forced =
    answering.length > 0 ? ` (forced: ${answering.map((a) => a.host).join(', ')} still answered)` : '';
  if (action === 'off') {
    await driver.switchTo(false);
    return {
      ...base,
      on: false,
      result: `switched off${forced}`,
      ...(forced ? { answering: answering.map((a) => a.host) } : {}),
      ok: true,
    };
  }
  return {
    ...base,
    ...(await cycle(driver, options)),
    ...(forced ? { answering: answering.map((a) => a.host) } : {}),
    ok: true,
  };
}

/** By the plug's own timer where it has one, so the power comes back even if this machine is cut off. */
async function cycle(driver: PlugDriver, options: PowerOptions): Promise<{ on: boolean; result: string }> {
  const { offSeconds } = options;
  if (await driver.cycle(offSeconds))
    return { on: false, result: `switched off; the plug's own timer switches it back on in ${offSeconds} s` };
  await driver.switchTo(false);
  await (options.pause ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(offSeconds * 1000);
  await driver.switchTo(true);
  return {
    on: true,
    result: `switched off for ${offSeconds} s and on again from here (the plug has no timer)`,
  };
}

function refusal(action: PowerAction, answering: readonly { host: string; address: string }[]): string {
  const who = answering.map((a) => `${a.host} still answers at ${a.address}`).join(', ');
  const them = answering.length === 1 ? 'it' : 'them';
  return `${action === 'off' ? 'not switched off' : 'not cycled'}: ${who}. Shut ${them} down first (npm run shutdown), or pass --force to cut the power anyway.`;
}

async function answeringHosts(
  lab: Lab,
  plug: LabPlug,
  probeSeconds: number,
): Promise<{ host: string; address: string }[]> {
  const hosts = plug.feeds.flatMap((name) => lab.hosts.filter((host) => host.name === name));
  const found = await mapBounded(hosts, 8, (host) => answersAt(lab, host, probeSeconds));
  return found.flatMap((address, i) => (address ? [{ host: hosts[i]?.name ?? '', address }] : []));
}

/** Where the host answers SSH, as itself or as its imager; undefined when neither does. */
async function answersAt(lab: Lab, host: LabHost, probeSeconds: number): Promise<string | undefined> {
  const { node, imager } = hostEndpoints(lab, host);
  for (const endpoint of [node, imager]) {
    const answer = await probeSshPort(endpoint, sshSettings(lab.ssh), probeSeconds);
    if (answer.kind === 'banner') return describeEndpoint(endpoint);
  }
  return undefined;
}

import { UserError } from '../errors.ts';
import type { Lab, LabHost, LabPlug } from '../lab/lab-types.ts';
import type { PowerAction } from './power-actions.ts';
import type { PlugConnection, PlugCredentials } from './plug-driver.ts';

/** What one power command drives: plugs, and hosts to wake with a magic packet (only to switch on). */
export interface PowerSelection {
  readonly plugs: readonly LabPlug[];
  readonly wake: readonly LabHost[];
}

/**
 * What a command line names: a plug, the plug feeding a host, or every plug; with `on`, also the
 * `wake_on_lan` hosts among them (a host on its own, the hosts a plug feeds, or all of them).
 */
export function selectPower(lab: Lab, name: string | undefined, action: PowerAction): PowerSelection {
  const plugs = lab.power?.plugs ?? [];
  const wakeable = lab.hosts.filter((host) => host.wakeOnLan);
  const waking = (hosts: readonly LabHost[]): LabHost[] => (action === 'on' ? [...hosts] : []);
  if (plugs.length === 0 && (wakeable.length === 0 || (name === undefined && action !== 'on')))
    throw new UserError(`${lab.file} has no power section: pi-lab drives no plug.`, [
      'add power.plugs with each plug\'s name, driver (kasa, shelly or tasmota) and address (README "Running the lab")',
      ...(wakeable.length > 0 ? [`hosts marked wake_on_lan are woken with: npm run power -- on [HOST]`] : []),
    ]);
  if (name === undefined) return { plugs: [...plugs], wake: waking(wakeable) };
  const plug = plugs.find((p) => p.name === name);
  if (plug) return { plugs: [plug], wake: waking(wakeable.filter((host) => plug.feeds.includes(host.name))) };
  const host = lab.hosts.find((h) => h.name === name);
  const feeding = plugs.find((p) => p.feeds.includes(name));
  if (host?.wakeOnLan && !feeding && action !== 'on')
    throw new UserError(
      `No plug feeds ${name} in ${lab.file}: it is woken by wake-on-LAN, which only switches it on.`,
      [`npm run power -- on ${name} wakes it; npm run shutdown -- ${name} shuts it down`],
    );
  if (host && (feeding || host.wakeOnLan))
    return { plugs: feeding ? [feeding] : [], wake: waking(host.wakeOnLan ? [host] : []) };
  throw new UserError(
    host
      ? `No plug feeds ${name} in ${lab.file}: list it under a plug's feeds, or mark it wake_on_lan.`
      : `${name} is neither a plug nor a host of ${lab.file} (plugs: ${plugs.map((p) => p.name).join(', ') || 'none'}).`,
  );
}

/** Credentials come from the environment variable the lab file names: `password` or `user:password`. */
export function plugConnection(plug: LabPlug, env: NodeJS.ProcessEnv = process.env): PlugConnection {
  return {
    name: plug.name,
    driver: plug.driver,
    address: { host: plug.address, ...(plug.port === undefined ? {} : { port: plug.port }) },
    ...(plug.credentialsVariable === undefined ? {} : { credentials: credentialsFrom(plug, env) }),
  };
}

function credentialsFrom(plug: LabPlug, env: NodeJS.ProcessEnv): PlugCredentials {
  const variable = plug.credentialsVariable ?? '';
  const value = env[variable];
  if (value === undefined || value === '')
    throw new UserError(
      `plug "${plug.name}" needs its password in the environment variable ${variable}, which is not set.`,
      [`export ${variable}='the plug password' (or 'user:password'), then run the command again`],
    );
  const colon = value.indexOf(':');
  return colon > 0 ? { user: value.slice(0, colon), password: value.slice(colon + 1) } : { password: value };
}

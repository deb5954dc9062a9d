import { UserError } from '../errors.ts';
import type { Lab, LabPlug } from '../lab/lab-types.ts';
import type { PlugConnection, PlugCredentials } from './plug-driver.ts';

/** The plugs a command line names: a plug, the plug feeding a host, or every plug. */
export function selectPlugs(lab: Lab, name: string | undefined): LabPlug[] {
  const plugs = lab.power?.plugs ?? [];
  if (plugs.length === 0)
    throw new UserError(`${lab.file} has no power section: pi-lab drives no plug.`, [
      'add power.plugs with each plug\'s name, driver (kasa, shelly or tasmota) and address (README "Running the lab")',
    ]);
  if (name === undefined) return [...plugs];
  const plug = plugs.find((p) => p.name === name);
  if (plug) return [plug];
  const feeding = plugs.find((p) => p.feeds.includes(name));
  if (feeding) return [feeding];
  const known = lab.hosts.some((host) => host.name === name);
  throw new UserError(
    known
      ? `No plug feeds ${name} in ${lab.file}: list it under a plug's feeds.`
      : `${name} is neither a plug nor a host of ${lab.file} (plugs: ${plugs.map((p) => p.name).join(', ')}).`,
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

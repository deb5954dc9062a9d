import { isInSubnet, parseIpv4 } from '../lab/ipv4.ts';
import { defaultImagerName } from '../lab/default-imager-name.ts';
import type { Lab, LabHost, LabSsh } from '../lab/lab-types.ts';
import type { SshDestination } from '../values/ssh-destination.ts';
import type { SshEndpoint, SshSettings } from './ssh-endpoint.ts';
import { isRouter } from '../lab/router-host.ts';

/** What connecting to a lab machine needs from the lab file. */
export type LabReach = Pick<Lab, 'ssh' | 'network'>;

/** The lab file's ssh section as connection settings. */
export function sshSettings(ssh: LabSsh): SshSettings {
  return {
    ...(ssh.identityFiles ? { identityFiles: ssh.identityFiles } : {}),
    ...(ssh.knownHostsFile ? { knownHostsFile: ssh.knownHostsFile } : {}),
    connectTimeoutSeconds: ssh.connectTimeoutSeconds,
  };
}

export function jumpEndpoint(jump: SshDestination, defaultUser: string): SshEndpoint {
  return { host: jump.host, user: jump.user ?? defaultUser, ...(jump.port ? { port: jump.port } : {}) };
}

/**
 * An endpoint in the lab: addresses on the lab subnet are behind the router, so they are reached
 * through ssh.jump when one is set (except from the router itself, `direct`).
 */
export function labEndpoint(
  lab: LabReach,
  address: string,
  options: { readonly port?: number; readonly user?: string; readonly direct?: boolean } = {},
): SshEndpoint {
  const jump =
    !options.direct && lab.ssh.jump && onLabSubnet(lab, address)
      ? jumpEndpoint(lab.ssh.jump, lab.ssh.user)
      : undefined;
  return {
    host: address,
    user: options.user ?? lab.ssh.user,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(jump ? { jump } : {}),
  };
}

function onLabSubnet(lab: LabReach, address: string): boolean {
  const value = parseIpv4(address);
  const subnet = parseIpv4(lab.network.subnet.address);
  if (value === undefined || subnet === undefined) return false;
  return isInSubnet(value, { address: subnet, prefix: lab.network.subnet.prefix });
}

/** How a lab host is reached as itself (its USB system) and as its SD imager. */
export interface HostEndpoints {
  readonly node: SshEndpoint;
  readonly imagerName: string;
  readonly imager: SshEndpoint;
}

/** The router is reached directly (the jump host is the router itself); the others through it. */
export function hostEndpoints(lab: LabReach, host: LabHost): HostEndpoints {
  const direct = isRouter(host);
  const imagerName = host.imager?.name ?? defaultImagerName(host.name);
  const endpoint = (address: string, port: number | undefined, user: string | undefined): SshEndpoint =>
    labEndpoint(lab, address, {
      direct,
      ...(port === undefined ? {} : { port }),
      ...(user === undefined ? {} : { user }),
    });
  return {
    node: endpoint(host.ssh?.address ?? host.ip ?? `${host.name}.local`, host.ssh?.port, host.ssh?.user),
    imagerName,
    imager: endpoint(host.imager?.address ?? `${imagerName}.local`, host.imager?.port, host.imager?.user),
  };
}

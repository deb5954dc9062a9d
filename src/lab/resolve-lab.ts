import path from 'node:path';
import { formatIpv4, parseCidr, prefixMask } from './ipv4.ts';
import { hostSchema, networkSchema, plugSchema, type LabInput } from './lab-schema.ts';
import { parseShareTarget } from '../values/share-target.ts';
import type {
  ImagerInput,
  Lab,
  LabHost,
  LabNetwork,
  LabParts,
  LabPlug,
  LabShare,
  LabSsh,
} from './lab-types.ts';
import { parseSshDestination } from '../values/ssh-destination.ts';

/** Turns schema-valid input into the resolved Lab; the schema guarantees every value is well-formed. */
export function resolveLab(input: LabInput, file: string, projectDir: string): Lab {
  const { image, share, ssh, deploy } = input;
  return {
    file,
    network: resolveNetwork(input.network),
    image: { clean: path.resolve(projectDir, image.clean), placeholder: image.placeholder },
    ...(share ? { share: resolveShare(share, projectDir) } : {}),
    ssh: resolveSsh(ssh),
    deploy: { parallel: deploy?.parallel ?? 3, timeouts: { ...(deploy?.timeouts ?? {}) } },
    ...(input.power
      ? { power: { plugs: input.power.plugs.map((plug, index) => resolvePlug(plug, index, input.hosts)) } }
      : {}),
    hosts: input.hosts.map(resolveHost),
  };
}

/**
 * The parts of a lab file that pass their own schema although the whole does not: the network section
 * and each host on its own. A part with a field error is left out, so no rule reports a consequence of it.
 */
export function resolveWellFormedParts(input: unknown, file: string): LabParts {
  const sections: Partial<Record<string, unknown>> = typeof input === 'object' && input !== null ? input : {};
  const network = networkSchema.safeParse(sections.network);
  const hosts: readonly unknown[] = Array.isArray(sections.hosts) ? sections.hosts : [];
  const wellFormedHosts = hosts.flatMap((host) => {
    const parsed = hostSchema.safeParse(host);
    return parsed.success ? [parsed.data] : [];
  });
  const power = sections.power as { plugs?: unknown } | undefined;
  const plugs: readonly unknown[] = Array.isArray(power?.plugs) ? power.plugs : [];
  return {
    file,
    ...(network.success ? { network: resolveNetwork(network.data) } : {}),
    hosts: hosts.flatMap((host, index) => {
      const parsed = hostSchema.safeParse(host);
      return parsed.success ? [resolveHost(parsed.data, index)] : [];
    }),
    hostsComplete: wellFormedHosts.length === hosts.length,
    plugs: plugs.flatMap((plug, index) => {
      const parsed = plugSchema.safeParse(plug);
      return parsed.success ? [resolvePlug(parsed.data, index, wellFormedHosts)] : [];
    }),
  };
}

function resolveNetwork(network: LabInput['network']): LabNetwork {
  const cidr = parseCidr(network.subnet);
  if (!cidr) throw new Error(`resolveLab: subnet ${network.subnet} passed the schema but does not parse`);
  return {
    subnet: {
      cidr: network.subnet,
      address: formatIpv4(cidr.address),
      prefix: cidr.prefix,
      netmask: formatIpv4(prefixMask(cidr.prefix)),
    },
    router: network.router,
    dhcp: { ...network.dhcp },
    lan: network.lan,
    uplink: network.uplink,
  };
}

function resolveHost(host: LabInput['hosts'][number], index: number): LabHost {
  return {
    name: host.name,
    ...(host.recipe === undefined ? {} : { recipe: host.recipe }),
    ...(host.mac === undefined ? {} : { mac: host.mac.toLowerCase() }),
    ...(host.ip === undefined ? {} : { ip: host.ip }),
    ...(host.wake_on_lan ? { wakeOnLan: true } : {}),
    index,
    ...(host.ssh === undefined ? {} : { ssh: { ...host.ssh } }),
    ...(host.imager === undefined ? {} : { imager: resolveImager(host.imager) }),
  };
}

function resolvePlug(
  plug: NonNullable<LabInput['power']>['plugs'][number],
  index: number,
  hosts: readonly { readonly name: string }[],
): LabPlug {
  return {
    name: plug.name,
    driver: plug.driver,
    address: plug.address,
    ...(plug.port === undefined ? {} : { port: plug.port }),
    ...(plug.credentials === undefined ? {} : { credentialsVariable: plug.credentials }),
    feeds: plug.feeds ?? hosts.map((host) => host.name),
    index,
  };
}

function resolveShare(share: NonNullable<LabInput['share']>, projectDir: string): LabShare {
  const target = parseShareTarget(share.target, projectDir);
  if ('problem' in target)
    throw new Error(`resolveLab: share.target passed the schema but ${target.problem}`);
  return {
    targetText: share.target,
    target,
    ...(share.nfs === undefined ? {} : { nfs: share.nfs }),
    imageRoot: share.image_root,
    keep: share.keep,
  };
}

function resolveSsh(ssh: LabInput['ssh']): LabSsh {
  const identity = ssh?.identity;
  const jump = ssh?.jump === undefined ? undefined : parseSshDestination(ssh.jump);
  return {
    user: ssh?.user ?? 'pi',
    ...(identity === undefined
      ? {}
      : { identityFiles: typeof identity === 'string' ? [identity] : identity }),
    ...(ssh?.known_hosts === undefined ? {} : { knownHostsFile: ssh.known_hosts }),
    ...(jump === undefined ? {} : { jump }),
    connectTimeoutSeconds: ssh?.connect_timeout ?? 20,
  };
}

function resolveImager(imager: NonNullable<LabInput['hosts'][number]['imager']>): ImagerInput {
  const { sd_disk: sdDisk, ...rest } = imager;
  return { ...rest, sdDisk };
}

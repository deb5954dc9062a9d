import path from 'node:path';
import { DEFAULT_LAB_FILE } from './default-lab-file.ts';
import { broadcastAddress, formatIpv4, isInSubnet, networkAddress, parseIpv4, type Cidr } from './ipv4.ts';
import type { Lab, LabHost } from './lab-types.ts';
import type { Problem } from './problem.ts';

export interface LabRuleContext {
  readonly projectDir: string;
  readonly recipeExists: (name: string) => boolean;
}

/** A named cross-field rule over a schema-valid lab; it reports every violation it finds. */
export type LabRule = (lab: Lab, context: LabRuleContext) => Problem[];

/** The recipe a host needs when it holds the router's address. */
const ROUTER_RECIPE = 'router';

export function hostNamesAreUnique(lab: Lab): Problem[] {
  return duplicates(lab.hosts, (host) => host.name).map(([host, first]) => ({
    path: `hosts[${host.index}].name`,
    message: `repeats the name of hosts[${first.index}]`,
    value: host.name,
    fix: 'give every host its own name',
  }));
}

export function macsAreUnique(lab: Lab): Problem[] {
  return duplicates(lab.hosts, (host) => host.mac).map(([host, first]) => ({
    path: `hosts[${host.index}].mac`,
    message: `is also the MAC of hosts[${first.index}] (${first.name})`,
    value: host.mac,
    fix: 'each reservation needs the MAC of its own machine (`ip link` shows it)',
  }));
}

export function ipsAreUnique(lab: Lab): Problem[] {
  return duplicates(lab.hosts, (host) => host.ip).map(([host, first]) => ({
    path: `hosts[${host.index}].ip`,
    message: `is also the address of hosts[${first.index}] (${first.name})`,
    value: host.ip,
    fix: 'give every host its own address',
  }));
}

export function routerAddressIsTheRouters(lab: Lab): Problem[] {
  return lab.hosts
    .filter((host) => host.ip === lab.network.router && host.recipe !== ROUTER_RECIPE)
    .map((host) => ({
      path: `hosts[${host.index}].ip`,
      message: `is the router's address (network.router) but the host's recipe is not "${ROUTER_RECIPE}"`,
      value: host.ip,
      fix: 'give this host another address',
    }));
}

export function addressesAreInSubnet(lab: Lab): Problem[] {
  const cidr = subnetOf(lab);
  return labAddresses(lab).flatMap(({ path: where, address }) => {
    const message = subnetMismatch(parseIpv4(address) ?? 0, cidr, lab.network.subnet.cidr);
    if (!message) return [];
    return [{ path: where, message, value: address, fix: `use an address from ${usableRange(cidr)}` }];
  });
}

export function dhcpRangeIsOrdered(lab: Lab): Problem[] {
  const { start, end } = lab.network.dhcp;
  if ((parseIpv4(start) ?? 0) <= (parseIpv4(end) ?? 0)) return [];
  return [
    {
      path: 'network.dhcp.start',
      message: `comes after network.dhcp.end (${end})`,
      value: start,
      fix: 'swap start and end',
    },
  ];
}

export function reservationsAreOutsideDhcpRange(lab: Lab): Problem[] {
  const { start, end } = lab.network.dhcp;
  const low = parseIpv4(start) ?? 0;
  const high = parseIpv4(end) ?? 0;
  const fixed = [
    { path: 'network.router', address: lab.network.router },
    ...lab.hosts.flatMap((host) => (host.ip ? [{ path: `hosts[${host.index}].ip`, address: host.ip }] : [])),
  ];
  return fixed
    .filter(({ address }) => {
      const value = parseIpv4(address) ?? 0;
      return low <= value && value <= high;
    })
    .map(({ path: where, address }) => ({
      path: where,
      message: `is inside the DHCP range ${start}-${end}, so dnsmasq could lease it to another machine`,
      value: address,
      fix: 'use an address outside the range, or shrink network.dhcp',
    }));
}

export function interfacesDiffer(lab: Lab): Problem[] {
  if (lab.network.lan !== lab.network.uplink) return [];
  return [
    {
      path: 'network.uplink',
      message: 'is the same interface as network.lan',
      value: lab.network.uplink,
      fix: 'the router needs one interface to the lab (lan) and another to the home network (uplink)',
    },
  ];
}

export function recipesExist(lab: Lab, context: LabRuleContext): Problem[] {
  return lab.hosts.flatMap((host) => {
    if (host.recipe === undefined) return [];
    const file = `recipes/${host.recipe}.yaml`;
    const where = { path: `hosts[${host.index}].recipe`, value: host.recipe };
    if (file === DEFAULT_LAB_FILE || path.resolve(context.projectDir, file) === lab.file) {
      return [{ ...where, message: `names the lab file (${file}), not a recipe`, fix: 'name a recipe' }];
    }
    if (context.recipeExists(host.recipe)) return [];
    return [
      { ...where, message: `has no recipe file ${file}`, fix: `create ${file}, or name an existing recipe` },
    ];
  });
}

export function reservedIpsHaveMacs(lab: Lab): Problem[] {
  return lab.hosts
    .filter((host) => host.ip !== undefined && host.mac === undefined)
    .map((host) => ({
      path: `hosts[${host.index}].ip`,
      message: 'has no mac to reserve it for (dnsmasq reserves addresses by MAC)',
      value: host.ip,
      fix: 'add mac: "xx:xx:xx:xx:xx:xx" (the host\'s Ethernet MAC, `ip link` shows it)',
    }));
}

export function hostsHaveAPurpose(lab: Lab): Problem[] {
  return lab.hosts
    .filter((host) => host.recipe === undefined && host.ip === undefined)
    .map((host) => ({
      path: `hosts[${host.index}]`,
      message: 'has neither a recipe (an image to bake) nor an address reservation (mac and ip)',
      value: host.name,
      fix: 'add recipe:, or mac: and ip:, or remove the host',
    }));
}

/** An imager must never be told to re-image the SD card it runs from. */
export function imagerDisksDiffer(lab: Lab): Problem[] {
  return lab.hosts
    .filter((host) => host.imager && host.imager.disk === host.imager.sdDisk)
    .map((host) => ({
      path: `hosts[${host.index}].imager.disk`,
      message: `is the disk the imager runs from (imager.sd_disk)`,
      value: host.imager?.disk,
      fix: 'name the USB disk the host boots from, e.g. "sda"',
    }));
}

export function imagerNamesAreUnique(lab: Lab): Problem[] {
  return duplicates(lab.hosts, (host) => host.imager?.name).map(([host, first]) => ({
    path: `hosts[${host.index}].imager.name`,
    message: `is also the imager of hosts[${first.index}] (${first.name})`,
    value: host.imager?.name,
    fix: 'every host has its own SD-card imager',
  }));
}

/** Run in this order; each rule is independent of the others. */
export const labRules: readonly LabRule[] = [
  hostNamesAreUnique,
  macsAreUnique,
  ipsAreUnique,
  routerAddressIsTheRouters,
  addressesAreInSubnet,
  dhcpRangeIsOrdered,
  reservationsAreOutsideDhcpRange,
  interfacesDiffer,
  recipesExist,
  reservedIpsHaveMacs,
  imagerDisksDiffer,
  imagerNamesAreUnique,
  hostsHaveAPurpose,
];

/** Each later host whose key repeats an earlier one's, paired with that earlier host. */
function duplicates(
  hosts: readonly LabHost[],
  key: (host: LabHost) => string | undefined,
): [LabHost, LabHost][] {
  const seen = new Map<string, LabHost>();
  const found: [LabHost, LabHost][] = [];
  for (const host of hosts) {
    const value = key(host);
    if (value === undefined) continue;
    const first = seen.get(value);
    if (first) found.push([host, first]);
    else seen.set(value, host);
  }
  return found;
}

function subnetOf(lab: Lab): Cidr {
  const { address, prefix } = lab.network.subnet;
  return { address: parseIpv4(address) ?? 0, prefix };
}

function labAddresses(lab: Lab): { path: string; address: string }[] {
  const { router, dhcp } = lab.network;
  return [
    { path: 'network.router', address: router },
    { path: 'network.dhcp.start', address: dhcp.start },
    { path: 'network.dhcp.end', address: dhcp.end },
    ...lab.hosts.flatMap((host) => (host.ip ? [{ path: `hosts[${host.index}].ip`, address: host.ip }] : [])),
  ];
}

function subnetMismatch(address: number, cidr: Cidr, subnet: string): string | undefined {
  if (address === networkAddress(cidr)) return `is the address of the subnet ${subnet} itself`;
  if (address === broadcastAddress(cidr)) return `is the broadcast address of the subnet ${subnet}`;
  return isInSubnet(address, cidr) ? undefined : `is outside the subnet ${subnet}`;
}

function usableRange(cidr: Cidr): string {
  return `${formatIpv4(networkAddress(cidr) + 1)} to ${formatIpv4(broadcastAddress(cidr) - 1)}`;
}

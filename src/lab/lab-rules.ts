import path from 'node:path';
import { DEFAULT_LAB_FILE } from './default-lab-file.ts';
import { broadcastAddress, formatIpv4, isInSubnet, networkAddress, parseIpv4, type Cidr } from './ipv4.ts';
import { defaultImagerName } from './default-imager-name.ts';
import type { LabHost, LabNetwork, LabParts } from './lab-types.ts';
import type { Problem } from './problem.ts';
import { ROUTER_RECIPE } from './router-host.ts';

export interface LabRuleContext {
  readonly projectDir: string;
  readonly recipeExists: (name: string) => boolean;
}

/**
 * A named cross-field rule over the well-formed parts of a lab (all of it when the schema passed); it
 * reports every violation it finds among them and skips what is missing.
 */
export type LabRule = (lab: LabParts, context: LabRuleContext) => Problem[];

export function hostNamesAreUnique(lab: LabParts): Problem[] {
  return duplicates(lab.hosts, (host) => host.name).map(([host, first]) => ({
    path: `hosts[${host.index}].name`,
    message: `repeats the name of hosts[${first.index}]`,
    value: host.name,
    fix: 'give every host its own name',
  }));
}

export function macsAreUnique(lab: LabParts): Problem[] {
  return duplicates(lab.hosts, (host) => host.mac).map(([host, first]) => ({
    path: `hosts[${host.index}].mac`,
    message: `is also the MAC of hosts[${first.index}] (${first.name})`,
    value: host.mac,
    fix: 'each reservation needs the MAC of its own machine (`ip link` shows it)',
  }));
}

export function ipsAreUnique(lab: LabParts): Problem[] {
  return duplicates(lab.hosts, (host) => host.ip).map(([host, first]) => ({
    path: `hosts[${host.index}].ip`,
    message: `is also the address of hosts[${first.index}] (${first.name})`,
    value: host.ip,
    fix: 'give every host its own address',
  }));
}

export function routerAddressIsTheRouters(lab: LabParts): Problem[] {
  const { network } = lab;
  if (!network) return [];
  return lab.hosts
    .filter((host) => host.ip === network.router && host.recipe !== ROUTER_RECIPE)
    .map((host) => ({
      path: `hosts[${host.index}].ip`,
      message: `is the router's address (network.router) but the host's recipe is not "${ROUTER_RECIPE}"`,
      value: host.ip,
      fix: 'give this host another address',
    }));
}

export function addressesAreInSubnet(lab: LabParts): Problem[] {
  const { network } = lab;
  if (!network) return [];
  const cidr = subnetOf(network);
  return labAddresses(network, lab.hosts).flatMap(({ path: where, address }) => {
    const message = subnetMismatch(parseIpv4(address) ?? 0, cidr, network.subnet.cidr);
    if (!message) return [];
    return [{ path: where, message, value: address, fix: `use an address from ${usableRange(cidr)}` }];
  });
}

export function dhcpRangeIsOrdered(lab: LabParts): Problem[] {
  if (!lab.network) return [];
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

export function reservationsAreOutsideDhcpRange(lab: LabParts): Problem[] {
  if (!lab.network) return [];
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

export function interfacesDiffer(lab: LabParts): Problem[] {
  if (!lab.network || lab.network.lan !== lab.network.uplink) return [];
  return [
    {
      path: 'network.uplink',
      message: 'is the same interface as network.lan',
      value: lab.network.uplink,
      fix: 'the router needs one interface to the lab (lan) and another to the home network (uplink)',
    },
  ];
}

export function recipesExist(lab: LabParts, context: LabRuleContext): Problem[] {
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

export function reservedIpsHaveMacs(lab: LabParts): Problem[] {
  return lab.hosts
    .filter((host) => host.ip !== undefined && host.mac === undefined)
    .map((host) => ({
      path: `hosts[${host.index}].ip`,
      message: 'has no mac to reserve it for (dnsmasq reserves addresses by MAC)',
      value: host.ip,
      fix: 'add mac: "xx:xx:xx:xx:xx:xx" (the host\'s Ethernet MAC, `ip link` shows it)',
    }));
}

/** dnsmasq reserves an address for a MAC: a mac alone makes no reservation. */
export function reservedMacsHaveIps(lab: LabParts): Problem[] {
  const free = freeAddresses(lab);
  return lab.hosts
    .filter((host) => host.mac !== undefined && host.ip === undefined)
    .map((host) => {
      const address = free.next();
      const ip = address.done
        ? 'ip: (an address in network.subnet, outside network.dhcp)'
        : `ip: ${address.value}`;
      return {
        path: `hosts[${host.index}].mac`,
        message: 'has no ip to reserve for it, so no DHCP reservation is made',
        value: host.mac,
        fix: `add ${ip}, or remove the ${host.recipe === undefined ? 'host' : 'mac'}`,
      };
    });
}

/** A host with only a mac is reported by reservedMacsHaveIps. */
export function hostsHaveAPurpose(lab: LabParts): Problem[] {
  return lab.hosts
    .filter((host) => host.recipe === undefined && host.ip === undefined && host.mac === undefined)
    .map((host) => ({
      path: `hosts[${host.index}]`,
      message: 'has neither a recipe (an image to bake) nor an address reservation (mac and ip)',
      value: host.name,
      fix: 'add recipe:, or mac: and ip:, or remove the host',
    }));
}

/** An imager must never be told to re-image the SD card it runs from. */
export function imagerDisksDiffer(lab: LabParts): Problem[] {
  return lab.hosts
    .filter((host) => host.imager && host.imager.disk === host.imager.sdDisk)
    .map((host) => ({
      path: `hosts[${host.index}].imager.disk`,
      message: `is the disk the imager runs from (imager.sd_disk)`,
      value: host.imager?.disk,
      fix: 'name the USB disk the host boots from, e.g. "sda"',
    }));
}

export function imagerNamesAreUnique(lab: LabParts): Problem[] {
  return duplicates(lab.hosts, (host) => host.imager?.name).map(([host, first]) => ({
    path: `hosts[${host.index}].imager.name`,
    message: `is also the imager of hosts[${first.index}] (${first.name})`,
    value: host.imager?.name,
    fix: 'every host has its own SD-card imager',
  }));
}

/**
 * Deploy tells a host from its imager by the name each answers to. Every host with a recipe has an imager
 * (named by imager.name, else by default); an imager.name counts on any host.
 */
export function hostNamesAreNotImagerNames(lab: LabParts): Problem[] {
  const imagers = lab.hosts.flatMap((owner): ImagerName[] => {
    if (owner.imager?.name !== undefined) return [{ owner, name: owner.imager.name, explicit: true }];
    return owner.recipe === undefined
      ? []
      : [{ owner, name: defaultImagerName(owner.name), explicit: false }];
  });
  return lab.hosts.flatMap((host) => {
    const imager = imagers.find(({ name }) => name === host.name);
    if (!imager) return [];
    const setting = imager.owner === host ? 'its imager.name' : `hosts[${imager.owner.index}].imager.name`;
    return [
      {
        path: `hosts[${host.index}].name`,
        message: `${describeImagerName(host, imager)}, so deploy could take the one for the other`,
        value: host.name,
        fix: imager.explicit ? 'rename the host or the imager' : `rename the host, or set ${setting}`,
      },
    ];
  });
}

interface ImagerName {
  readonly owner: LabHost;
  readonly name: string;
  readonly explicit: boolean;
}

function describeImagerName(host: LabHost, { owner, name, explicit }: ImagerName): string {
  if (owner === host)
    return explicit
      ? 'is also its own imager name (imager.name)'
      : 'is also its own default imager name (a host named <letters><N> has imager<N>)';
  const whose = `hosts[${owner.index}]`;
  return explicit
    ? `is also the imager name of ${whose} (${owner.name})`
    : `is also the default imager name of ${whose} (${owner.name} → ${name})`;
}

export function plugNamesAreUnique(lab: LabParts): Problem[] {
  const plugs = lab.plugs ?? [];
  const hostNames = new Set(lab.hosts.map((host) => host.name));
  const repeated = duplicates(plugs, (plug) => plug.name).map(([plug, first]) => ({
    path: `power.plugs[${plug.index}].name`,
    message: `repeats the name of power.plugs[${first.index}]`,
    value: plug.name,
    fix: 'give every plug its own name',
  }));
  const hostLike = plugs
    .filter((plug) => hostNames.has(plug.name))
    .map((plug) => ({
      path: `power.plugs[${plug.index}].name`,
      message: 'is also the name of a host, so `npm run power -- off NAME` could mean either',
      value: plug.name,
      fix: `name the plug after what it is, e.g. "${plug.name}-plug" or "strip"`,
    }));
  return [...repeated, ...hostLike];
}

export function plugsFeedLabHosts(lab: LabParts): Problem[] {
  if (lab.hostsComplete === false) return [];
  const hostNames = new Set(lab.hosts.map((host) => host.name));
  return (lab.plugs ?? []).flatMap((plug) =>
    plug.feeds
      .map((name, i) => ({ name, i }))
      .filter(({ name }) => !hostNames.has(name))
      .map(({ name, i }) => ({
        path: `power.plugs[${plug.index}].feeds[${i}]`,
        message: 'is not a host of this lab',
        value: name,
        fix: `name hosts from hosts[] (${[...hostNames].join(', ') || 'none'}), or leave feeds out: the plug then feeds every host`,
      })),
  );
}

/** `power off` must know which plug cuts a host: one per host. */
export function hostsHaveOnePlug(lab: LabParts): Problem[] {
  const fedBy = new Map<string, number>();
  const problems: Problem[] = [];
  for (const plug of lab.plugs ?? []) {
    plug.feeds.forEach((name, i) => {
      const first = fedBy.get(name);
      if (first === undefined) fedBy.set(name, plug.index);
      else
        problems.push({
          path: `power.plugs[${plug.index}].feeds[${i}]`,
          message: `is fed by power.plugs[${first}] already`,
          value: name,
          fix: 'list each host under the one plug its power supply is in (a plug without feeds feeds every host)',
        });
    });
  }
  return problems;
}

/** The magic packet is addressed to the host's MAC. */
export function wakeOnLanHostsHaveMacs(lab: LabParts): Problem[] {
  return lab.hosts
    .filter((host) => host.wakeOnLan && host.mac === undefined)
    .map((host) => ({
      path: `hosts[${host.index}].wake_on_lan`,
      message: "needs the host's mac: the magic packet is addressed to it",
      fix: 'add mac: "xx:xx:xx:xx:xx:xx" (the host\'s Ethernet MAC, `ip link` shows it)',
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
  reservedMacsHaveIps,
  imagerDisksDiffer,
  imagerNamesAreUnique,
  hostNamesAreNotImagerNames,
  hostsHaveAPurpose,
  plugNamesAreUnique,
  plugsFeedLabHosts,
  hostsHaveOnePlug,
  wakeOnLanHostsHaveMacs,
];

export function checkLabRules(lab: LabParts, context: LabRuleContext): Problem[] {
  return labRules.flatMap((rule) => rule(lab, context));
}

/** Each later item whose key repeats an earlier one's, paired with that earlier item. */
function duplicates<T>(items: readonly T[], key: (item: T) => string | undefined): [T, T][] {
  const seen = new Map<string, T>();
  const found: [T, T][] = [];
  for (const item of items) {
    const value = key(item);
    if (value === undefined) continue;
    const first = seen.get(value);
    if (first) found.push([item, first]);
    else seen.set(value, item);
  }
  return found;
}

function subnetOf(network: LabNetwork): Cidr {
  const { address, prefix } = network.subnet;
  return { address: parseIpv4(address) ?? 0, prefix };
}

function labAddresses(network: LabNetwork, hosts: readonly LabHost[]): { path: string; address: string }[] {
  const { router, dhcp } = network;
  return [
    { path: 'network.router', address: router },
    { path: 'network.dhcp.start', address: dhcp.start },
    { path: 'network.dhcp.end', address: dhcp.end },
    ...hosts.flatMap((host) => (host.ip ? [{ path: `hosts[${host.index}].ip`, address: host.ip }] : [])),
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

/** Addresses to suggest for a reservation, lowest first: usable in the subnet, outside the DHCP range, unused. */
function* freeAddresses(lab: LabParts): Generator<string, void> {
  if (!lab.network) return;
  const { network } = lab;
  const cidr = subnetOf(network);
  const taken = new Set([network.router, ...lab.hosts.flatMap((host) => (host.ip ? [host.ip] : []))]);
  const dhcpStart = parseIpv4(network.dhcp.start) ?? 0;
  const dhcpEnd = parseIpv4(network.dhcp.end) ?? 0;
  let address = networkAddress(cidr) + 1;
  while (address < broadcastAddress(cidr)) {
    if (dhcpStart <= address && address <= dhcpEnd) address = dhcpEnd + 1;
    else {
      if (!taken.has(formatIpv4(address))) yield formatIpv4(address);
      address++;
    }
  }
}

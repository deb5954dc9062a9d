import type { Lab, LabHost } from '../lab/lab-types.ts';

/** What overlay templates may name; a name not here fails the render. */
export interface TemplateView {
  readonly host: { readonly name: string; readonly mac?: string; readonly ip?: string };
  readonly network: {
    /** CIDR, e.g. 192.168.87.0/24. */
    readonly subnet: string;
    readonly address: string;
    readonly prefix: number;
    readonly netmask: string;
    readonly router: string;
    readonly lan: string;
    readonly uplink: string;
    readonly dhcp: { readonly start: string; readonly end: string; readonly lease: string };
  };
  /** Every lab host with both a mac and an ip, in lab order. */
  readonly reservations: readonly { readonly name: string; readonly mac: string; readonly ip: string }[];
}

/** Optional host fields are left out rather than set to undefined, so a template naming them fails loudly. */
export function buildTemplateView(lab: Lab, host: LabHost): TemplateView {
  const { network } = lab;
  return {
    host: {
      name: host.name,
      ...(host.mac === undefined ? {} : { mac: host.mac }),
      ...(host.ip === undefined ? {} : { ip: host.ip }),
    },
    network: {
      subnet: network.subnet.cidr,
      address: network.subnet.address,
      prefix: network.subnet.prefix,
      netmask: network.subnet.netmask,
      router: network.router,
      lan: network.lan,
      uplink: network.uplink,
      dhcp: { ...network.dhcp },
    },
    reservations: lab.hosts.flatMap(({ name, mac, ip }) =>
      mac !== undefined && ip !== undefined ? [{ name, mac, ip }] : [],
    ),
  };
}

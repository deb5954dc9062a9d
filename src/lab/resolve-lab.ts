import path from 'node:path';
import { formatIpv4, parseCidr, prefixMask } from './ipv4.ts';
import type { LabInput } from './lab-schema.ts';
import type { Lab, LabHost } from './lab-types.ts';

/** Turns schema-valid input into the resolved Lab; the schema guarantees every value is well-formed. */
export function resolveLab(input: LabInput, file: string, projectDir: string): Lab {
  const { network, image } = input;
  const cidr = parseCidr(network.subnet);
  if (!cidr) throw new Error(`resolveLab: subnet ${network.subnet} passed the schema but does not parse`);
  return {
    file,
    network: {
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
    },
    image: { clean: path.resolve(projectDir, image.clean), placeholder: image.placeholder },
    hosts: input.hosts.map((host, index): LabHost => ({
      name: host.name,
      ...(host.recipe === undefined ? {} : { recipe: host.recipe }),
      ...(host.mac === undefined ? {} : { mac: host.mac.toLowerCase() }),
      ...(host.ip === undefined ? {} : { ip: host.ip }),
      index,
    })),
  };
}

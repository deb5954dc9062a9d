import { createHash } from 'node:crypto';
import type { LabHost } from '../lab/lab-types.ts';
import type { Nic } from './qemu-command.ts';

export interface LabWiring {
  /** eth0 on the lab switch, eth1 the uplink (QEMU's user network, no route out) with SSH forwarded. */
  readonly router: readonly Nic[];
  /** Each node's only NIC: a port of the router's hub, with the node's MAC from the lab file. */
  readonly nodes: readonly (readonly Nic[])[];
}

/** Pure: the NICs of a virtual lab. The order of a VM's NICs is the order of its eth names. */
export function labSwitch(
  routerSshPort: number,
  nodePorts: readonly number[],
  nodes: readonly Pick<LabHost, 'name' | 'mac'>[],
): LabWiring {
  return {
    router: [
      { kind: 'hub', mac: localMac('router'), nodePorts },
      { kind: 'user', sshPort: routerSshPort },
    ],
    nodes: nodes.map((node, index) => [
      { kind: 'switch-port', mac: node.mac ?? localMac(node.name), port: nodePorts[index] ?? 0 },
    ]),
  };
}

/** A locally administered MAC (QEMU's 52:54:00 prefix) for a NIC the lab file names none for. */
export function localMac(seed: string): string {
  const bytes = createHash('sha256').update(seed).digest();
  return ['52', '54', '00', ...[0, 1, 2].map((i) => (bytes[i] ?? 0).toString(16).padStart(2, '0'))].join(':');
}

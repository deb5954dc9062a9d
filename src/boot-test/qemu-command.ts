import { command, type Command } from '../exec/command.ts';
import { type Accel, cpuArgs } from './choose-accel.ts';

/** A NIC on QEMU's user network (no route out: restrict=on) with SSH forwarded from loopback. */
export interface UserNic {
  readonly kind: 'user';
  readonly sshPort: number;
  readonly mac?: string;
}

/**
 * The router's NIC on the lab switch: a hub inside the router's QEMU, with one listening socket
 * on loopback per node. QEMU listens again when a node's connection drops (a node reboot).
 */
export interface HubNic {
  readonly kind: 'hub';
  readonly mac: string;
  readonly nodePorts: readonly number[];
}

/** A node's NIC on the lab switch: a socket connected to its port on the router's hub. */
export interface SwitchPortNic {
  readonly kind: 'switch-port';
  readonly mac: string;
  readonly port: number;
}

export type Nic = UserNic | HubNic | SwitchPortNic;

export interface VmBoot {
  readonly disk: string;
  readonly kernel: string;
  readonly initrd: string | undefined;
  readonly append: string;
  readonly serialLog: string;
  readonly nics: readonly Nic[];
  readonly accel: Accel;
  readonly memoryMiB: number;
}

/**
 * One boot of an amd64 VM. `-no-reboot`: a guest reboot ends QEMU, so the caller starts the next
 * boot with the command line read again from cmdline.txt, as the Pi firmware does.
 */
export function qemuCommand(boot: VmBoot): Command {
  return command('qemu-system-x86_64', [
    '-machine',
    `q35,accel=${boot.accel}`,
    ...cpuArgs(boot.accel),
    '-m',
    String(boot.memoryMiB),
    '-smp',
    '1',
    '-nodefaults',
    '-no-reboot',
    '-display',
    'none',
    '-serial',
    `file:${boot.serialLog}`,
    '-drive',
    `file=${boot.disk},format=raw,if=virtio,cache=unsafe`,
    '-kernel',
    boot.kernel,
    ...(boot.initrd ? ['-initrd', boot.initrd] : []),
    '-append',
    boot.append,
    ...boot.nics.flatMap(nicArgs),
  ]);
}

function nicArgs(nic: Nic, index: number): string[] {
  const id = `net${index}`;
  const device = ['-device', `virtio-net-pci,netdev=${id}${nic.mac ? `,mac=${nic.mac}` : ''}`];
  switch (nic.kind) {
    case 'user':
      return ['-netdev', `user,id=${id},restrict=on,hostfwd=tcp:127.0.0.1:${nic.sshPort}-:22`, ...device];
    case 'switch-port':
      return ['-netdev', `socket,id=${id},connect=127.0.0.1:${nic.port}`, ...device];
    case 'hub':
      return [
        '-netdev',
        `hubport,id=${id},hubid=${index}`,
        ...device,
        ...nic.nodePorts.flatMap((port, node) => [
          '-netdev',
          `socket,id=${id}-node${node},listen=127.0.0.1:${port}`,
          '-netdev',
          `hubport,id=${id}-port${node},hubid=${index},netdev=${id}-node${node}`,
        ]),
      ];
  }
}

/**
 * What the Pi firmware's own additions stand for on this machine: the serial console last (so
 * systemd writes to it), and interface names eth0, eth1… as a Pi has.
 */
export function vmCommandLine(cmdlineTxt: string): string {
  return `${cmdlineTxt.trim()} net.ifnames=0 console=ttyS0,115200`;
}

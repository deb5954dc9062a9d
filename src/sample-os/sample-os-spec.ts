import { createHash } from 'node:crypto';
import { command, type Command } from '../exec/command.ts';
import { renderFirstrunScript } from '../sample/firstrun-script.ts';
import { bootableCloudInitFiles } from './sample-os-cloud-init.ts';

/**
 * What the bootable sample clean image is made of: a Debian 12 amd64 system (it boots fastest under
 * emulation) shaped like Raspberry Pi OS Lite customised by Imager and never booted. Everything here
 * is an input of the cache key: change it and the image is built again.
 */
export type SampleOsFlavour = 'firstrun' | 'cloud-init';

export interface SampleOsSpec {
  readonly flavour: SampleOsFlavour;
  readonly suite: string;
  readonly mirror: string;
  readonly packages: readonly string[];
  /** Not installed: kept as .debs in a local archive the image's apt reads, for the router's installer. */
  readonly archivePackages: readonly string[];
  readonly excludedPaths: readonly string[];
  readonly initramfsModules: readonly string[];
  readonly bootSizeMiB: number;
  readonly rootSizeMiB: number;
}

/** Bumped when the way the image is put together changes (files, hooks, layout). */
const BUILDER_VERSION = 'sample-os-2';

const BASE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'udev',
  'dbus',
  'linux-image-amd64',
  'initramfs-tools',
  'openssh-server',
  'network-manager',
  'iptables',
  'iproute2',
  'procps',
  'iputils-ping',
  'sudo',
  'e2fsprogs',
  'apt-utils',
];

/** cloud-init's locale module fails without `locales`, and `cloud-init status` then says error. */
const CLOUD_INIT_PACKAGES = ['cloud-init', 'locales', 'tzdata'];

/** What the router overlay's first-boot installer fetches with apt. */
export const ROUTER_ARCHIVE_PACKAGES = ['dnsmasq', 'iptables-persistent'];

/** Kernel modules no virtual machine here loads, and documentation: a root a third the size. */
const EXCLUDED_PATHS = [
  '/usr/share/man/*',
  '/usr/share/doc/*',
  '/usr/share/locale/*',
  ...[
    'drivers/gpu',
    'drivers/net/wireless',
    'drivers/net/ethernet',
    'drivers/media',
    'drivers/infiniband',
    'drivers/staging',
    'drivers/scsi',
    'drivers/usb',
    'drivers/iio',
    'drivers/bluetooth',
    'drivers/md',
    'sound',
    'fs/btrfs',
    'fs/xfs',
  ].map((dir) => `/lib/modules/*/kernel/${dir}/*`),
];

/** The initramfs needs only what finds and mounts the root on a virtio disk. */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'ext4'];

export const SAMPLE_OS_MIRROR = 'http://deb.debian.org/debian';

export function sampleOsSpec(flavour: SampleOsFlavour, mirror = SAMPLE_OS_MIRROR): SampleOsSpec {
  return {
    flavour,
    suite: 'bookworm',
    mirror,
    packages: [...BASE_PACKAGES, ...(flavour === 'cloud-init' ? CLOUD_INIT_PACKAGES : [])],
    archivePackages: ROUTER_ARCHIVE_PACKAGES,
    excludedPaths: EXCLUDED_PATHS,
    initramfsModules: INITRAMFS_MODULES,
    bootSizeMiB: 128,
    rootSizeMiB: 1536,
  };
}

export function sampleOsKey(spec: SampleOsSpec): string {
  const firstBootFiles =
    spec.flavour === 'cloud-init'
      ? bootableCloudInitFiles('changeme', 'KEY')
      : renderFirstrunScript('changeme', '1.8', { publicKey: 'KEY', bootDir: '/boot/firmware' });
  return createHash('sha256')
    .update(JSON.stringify({ builder: BUILDER_VERSION, spec, firstBootFiles }))
    .digest('hex')
    .slice(0, 16);
}

/**
 * mmdebstrap into a tarball that keeps every owner: as root, or unprivileged in a user namespace
 * (`unshare`: subordinate ids from /etc/subuid). The essential hook limits the initramfs before the
 * kernel is installed (its postinst builds it); the customize hook is renderCustomizeHook's script.
 */
export function mmdebstrapCommand(
  spec: SampleOsSpec,
  rootTar: string,
  hooks: { readonly initramfs: string; readonly customize: string },
  mode: 'root' | 'unshare',
): Command {
  return command('mmdebstrap', [
    `--mode=${mode}`,
    '--variant=apt',
    '--arch=amd64',
    `--include=${spec.packages.join(',')}`,
    ...spec.excludedPaths.map((pattern) => `--dpkgopt=path-exclude=${pattern}`),
    `--essential-hook=${hooks.initramfs}`,
    `--customize-hook=${hooks.customize}`,
    spec.suite,
    rootTar,
    spec.mirror,
  ]);
}

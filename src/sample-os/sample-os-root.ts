import { CLOUD_INIT_SEED_CONFIG, SAMPLE_USER } from './sample-os-cloud-init.ts';
import type { SampleOsFlavour, SampleOsSpec } from './sample-os-spec.ts';

/** A file the builder places in the root (relative path, content, mode). */
export interface StagedRootFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export const LOCAL_ARCHIVE_DIR = '/var/local/pi-lab-archive';

const HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\t\tlocalhost ip6-localhost ip6-loopback',
  'ff02::1\t\tip6-allnodes',
  'ff02::2\t\tip6-allrouters',
  '',
  '127.0.1.1\t\traspberrypi',
  '',
].join('\n');

/** raspberrypi-sys-mods' firstboot grows the root and renews the disk id; on a virtual disk there is nothing to do. */
const FIRSTBOOT_STAND_IN = `#!/bin/sh
# Stand-in for raspberrypi-sys-mods' firstboot (named by init= in cmdline.txt): this sample's disk
# is not grown and keeps its identifier, so it only starts systemd.
exec /sbin/init "$@"
`;

/** Raspberry Pi OS ships no SSH host keys and makes them on the first boot, as this unit does. */
const REGENERATE_HOST_KEYS = `[Unit]
Description=Generate the SSH host keys this image was shipped without
ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
`;

function fstab(diskId: string): string {
  return [
    'proc            /proc           proc    defaults          0       0',
    `PARTUUID=${diskId}-01  /boot/firmware  vfat    defaults          0       2`,
    `PARTUUID=${diskId}-02  /               ext4    defaults,noatime  0       1`,
    '',
  ].join('\n');
}

/** Files laid over the Debian root so that it looks like Raspberry Pi OS Lite before its first boot. */
export function stagedRootFiles(diskId: string, flavour: SampleOsFlavour): StagedRootFile[] {
  const cloudInit: StagedRootFile[] =
    flavour === 'cloud-init'
      ? [
          {
            path: 'etc/cloud/cloud.cfg.d/91-pi-lab-sample-seed.cfg',
            content: CLOUD_INIT_SEED_CONFIG,
            mode: 0o644,
          },
        ]
      : [];
  return [
    ...cloudInit,
    { path: 'etc/hostname', content: 'raspberrypi\n', mode: 0o644 },
    { path: 'etc/hosts', content: HOSTS, mode: 0o644 },
    { path: 'etc/fstab', content: fstab(diskId), mode: 0o644 },
    {
      path: 'etc/apt/sources.list',
      content: `deb [trusted=yes] file:${LOCAL_ARCHIVE_DIR} ./\n`,
      mode: 0o644,
    },
    {
      path: 'etc/systemd/system/regenerate_ssh_host_keys.service',
      content: REGENERATE_HOST_KEYS,
      mode: 0o644,
    },
    { path: 'usr/lib/raspberrypi-sys-mods/firstboot', content: FIRSTBOOT_STAND_IN, mode: 0o755 },
  ];
}

/** Run by mmdebstrap before the kernel is installed: a small initramfs that finds a virtio disk. */
export function renderInitramfsHook(spec: SampleOsSpec): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"',
    'echo MODULES=list >"$1/etc/initramfs-tools/conf.d/pi-lab-sample.conf"',
    `printf '%s\\n' ${spec.initramfsModules.join(' ')} >"$1/usr/share/initramfs-tools/modules.d/pi-lab-sample"`,
    '',
  ].join('\n');
}

/**
 * Run by mmdebstrap once every package is installed ($1: the root). Apt's sources end up pointing at
 * a local archive holding the router's packages, so the router's first-boot installer really
 * installs them inside a virtual lab without the internet.
 */
export function renderCustomizeHook(spec: SampleOsSpec, stagingDir: string): string {
  const archive = LOCAL_ARCHIVE_DIR;
  return [
    '#!/bin/sh',
    'set -eu',
    'root=$1',
    `mkdir -p "$root${archive}"`,
    `chroot "$root" apt-get -y -o Dir::Cache::archives=${archive} --download-only install ${spec.archivePackages.join(' ')}`,
    `rm -rf "$root${archive}/partial" "$root${archive}/lock"`,
    `chroot "$root" sh -c 'cd ${archive} && apt-ftparchive packages . >Packages'`,
    // Owned by whoever runs the hook: root, or root of the user namespace (never the builder's uid).
    `cp -R --preserve=mode --no-preserve=ownership '${stagingDir}/.' "$root/"`,
    'rm -f "$root/etc/resolv.conf" "$root"/etc/ssh/ssh_host_*',
    'mkdir -p "$root/boot/firmware"',
    // firstrun.sh renames the user with uid 1000 and turns SSH on (Raspberry Pi OS leaves it off);
    // cloud-init creates the user itself.
    ...(spec.flavour === 'firstrun'
      ? [
          `chroot "$root" useradd --create-home --uid 1000 --user-group --groups sudo,adm,netdev --shell /bin/bash ${SAMPLE_USER}`,
          'systemctl --root="$root" disable ssh.service',
        ]
      : []),
    'systemctl --root="$root" enable regenerate_ssh_host_keys.service',
    '',
  ].join('\n');
}

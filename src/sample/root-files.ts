import { pseudoRandomBytes } from './pseudo-random-bytes.ts';
import { partUuid, type SampleLayout } from './sample-layout.ts';

export type RootEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode: number; readonly owner?: Owner }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly mode: number;
      readonly content: string | Uint8Array;
      readonly owner?: Owner;
    }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export const ROOT_OWNER: Owner = { uid: 0, gid: 0 };
const PI: Owner = { uid: 1000, gid: 1000 };
const KIB = 1024;

const dir = (path: string, mode = 0o755, owner?: Owner): RootEntry => ({ kind: 'dir', path, mode, owner });
const file = (path: string, content: string | Uint8Array, mode = 0o644, owner?: Owner): RootEntry => ({
  kind: 'file',
  path,
  mode,
  content,
  owner,
});
const symlink = (path: string, target: string): RootEntry => ({ kind: 'symlink', path, target });

const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
`;

const HOSTS = `127.0.0.1\tlocalhost
::1\t\tlocalhost ip6-localhost ip6-loopback
ff02::1\t\tip6-allnodes
ff02::2\t\tip6-allrouters

127.0.1.1\t\traspberrypi
`;

const SSHD_CONFIG = `
# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

Include /etc/ssh/sshd_config.d/*.conf

#PermitRootLogin prohibit-password
#PubkeyAuthentication yes

# To disable tunneled clear text passwords, change to no here!
#PasswordAuthentication yes
#PermitEmptyPasswords no

KbdInteractiveAuthentication no
UsePAM yes

X11Forwarding yes
PrintMotd no

AcceptEnv LANG LC_*

Subsystem\tsftp\t/usr/lib/openssh/sftp-server
`;

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin
sshd:x:104:65534::/run/sshd:/usr/sbin/nologin
pi:x:1000:1000:,,,:/home/pi:/bin/bash
`;

const GROUP = `root:x:0:
daemon:x:1:
adm:x:4:pi
sudo:x:27:pi
netdev:x:106:pi
nogroup:x:65534:
pi:x:1000:
`;

const FIRSTBOOT = `#!/bin/sh
# Sample stand-in for raspberrypi-sys-mods' firstboot: grows the root partition,
# regenerates the disk identifier and SSH host keys, then reboots.
exit 0
`;

const IMAGER_CUSTOM = `#!/bin/sh
# Sample stand-in for raspberrypi-sys-mods' imager_custom.
exit 0
`;

const LICENSE_PARAGRAPH =
  'This program is free software: you can redistribute it and/or modify it under the terms of the ' +
  'GNU General Public License as published by the Free Software Foundation, either version 3 of the ' +
  'License, or (at your option) any later version.\n\n';

function fstab(layout: SampleLayout): string {
  return [
    'proc            /proc           proc    defaults          0       0',
    `PARTUUID=${partUuid(layout, 1)}  /boot/firmware  vfat    defaults          0       2`,
    `PARTUUID=${partUuid(layout, 2)}  /               ext4    defaults,noatime  0       1`,
    '',
  ].join('\n');
}

/** A never-booted Raspberry Pi OS Lite root filesystem, in miniature (~3 MiB of content). */
export function sampleRootEntries(layout: SampleLayout): RootEntry[] {
  return [
    symlink('bin', 'usr/bin'),
    dir('boot'),
    dir('boot/firmware'),
    dir('dev'),
    dir('etc'),
    dir('etc/NetworkManager'),
    dir('etc/NetworkManager/system-connections', 0o700),
    file('etc/fstab', fstab(layout)),
    file('etc/group', GROUP),
    file('etc/hostname', 'raspberrypi\n'),
    file('etc/hosts', HOSTS),
    file('etc/os-release', OS_RELEASE),
    file('etc/passwd', PASSWD),
    dir('etc/ssh'),
    file('etc/ssh/sshd_config', SSHD_CONFIG),
    dir('etc/ssh/sshd_config.d'),
    dir('etc/sudoers.d', 0o750),
    file('etc/sudoers.d/README', '# Files in this directory are read by sudo: see sudoers(5).\n', 0o440),
    dir('etc/systemd'),
    dir('etc/systemd/system'),
    dir('etc/systemd/system/multi-user.target.wants'),
    symlink(
      'etc/systemd/system/multi-user.target.wants/NetworkManager.service',
      '/lib/systemd/system/NetworkManager.service',
    ),
    symlink('etc/systemd/system/multi-user.target.wants/cron.service', '/lib/systemd/system/cron.service'),
    dir('home'),
    dir('home/pi', 0o700, PI),
    file('home/pi/.bashrc', '# ~/.bashrc: executed by bash(1) for non-login shells.\n', 0o644, PI),
    file(
      'home/pi/.profile',
      '# ~/.profile: executed by the command interpreter for login shells.\n',
      0o644,
      PI,
    ),
    symlink('lib', 'usr/lib'),
    dir('proc'),
    dir('root', 0o700),
    symlink('sbin', 'usr/sbin'),
    dir('sys'),
    dir('tmp', 0o1777),
    dir('usr'),
    dir('usr/bin'),
    file('usr/bin/raspi-config', pseudoRandomBytes('raspi-config', 96 * KIB), 0o755),
    dir('usr/lib'),
    dir('usr/lib/aarch64-linux-gnu'),
    file('usr/lib/aarch64-linux-gnu/libsample.so.1', pseudoRandomBytes('libsample.so.1', 1536 * KIB)),
    dir('usr/lib/raspberrypi-sys-mods'),
    file('usr/lib/raspberrypi-sys-mods/firstboot', FIRSTBOOT, 0o755),
    file('usr/lib/raspberrypi-sys-mods/imager_custom', IMAGER_CUSTOM, 0o755),
    dir('usr/local'),
    dir('usr/local/sbin'),
    dir('usr/sbin'),
    dir('usr/share'),
    dir('usr/share/common-licenses'),
    file('usr/share/common-licenses/GPL-3', LICENSE_PARAGRAPH.repeat(4096)),
    dir('var'),
    dir('var/lib'),
    dir('var/lib/systemd'),
    dir('var/log'),
  ];
}

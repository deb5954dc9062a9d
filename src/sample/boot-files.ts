import { renderCloudInitFiles, SAMPLE_INSTANCE_ID } from './cloud-init-files.ts';
import { renderFirstrunScript } from './firstrun-script.ts';
import { pseudoRandomBytes } from './pseudo-random-bytes.ts';
import { partUuid, type SampleLayout } from './sample-layout.ts';

export interface SampleFile {
  /** Relative to the filesystem root, '/'-separated. */
  readonly path: string;
  readonly content: string | Uint8Array;
}

const KIB = 1024;

/** `bootDir`: where the FAT is seen at boot (Imager writes /boot; Bookworm mounts it at /boot/firmware). */
export function renderCmdlineTxt(layout: SampleLayout, bootDir = '/boot'): string {
  const base =
    `console=serial0,115200 console=tty1 root=PARTUUID=${partUuid(layout, 2)} rootfstype=ext4 fsck.repair=yes ` +
    'rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot';
  const firstBoot =
    layout.firstBoot === 'firstrun'
      ? ` cfg80211.ieee80211_regdom=GB systemd.run=${bootDir}/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target`
      : ` ds=nocloud;i=${SAMPLE_INSTANCE_ID}`;
  // One line and no trailing newline, as Imager writes it back.
  return base + firstBoot;
}

export function renderConfigTxt(endsIn: 'all' | 'cm5'): string {
  const lines = [
    '# For more options and information see',
    '# http://rptl.io/configtxt',
    '# Some settings may impact device functionality. See link above for details',
    '',
    '# Uncomment some or all of these to enable the optional hardware interfaces',
    '#dtparam=i2c_arm=on',
    '#dtparam=i2s=on',
    '#dtparam=spi=on',
    '',
    '# Enable audio (loads snd_bcm2835)',
    'dtparam=audio=on',
    '',
    '# Additional overlays and parameters are documented',
    '# /boot/firmware/overlays/README',
    '',
    '# Automatically load overlays for detected cameras',
    'camera_auto_detect=1',
    '',
    '# Automatically load overlays for detected DSI displays',
    'display_auto_detect=1',
    '',
    '# Automatically load initramfs files, if found',
    'auto_initramfs=1',
    '',
    '# Enable DRM VC4 V3D driver',
    'dtoverlay=vc4-kms-v3d',
    'max_framebuffers=2',
    '',
    "# Don't have the firmware create an initial video= setting in cmdline.txt.",
    "# Use the kernel's default instead.",
    'disable_fw_kms_setup=1',
    '',
    '# Run in 64-bit mode',
    'arm_64bit=1',
    '',
    '# Disable compensation for displays with overscan',
    'disable_overscan=1',
    '',
    '# Run as fast as firmware / board allows',
    'arm_boost=1',
    '',
    '[cm4]',
    '# Enable host mode on the 2711 built-in XHCI USB controller.',
    '# This line should be removed if the legacy DWC2 controller is required',
    '# (e.g. for USB device mode) or if USB support is not required.',
    'otg_mode=1',
    '',
    '[cm5]',
    'dtoverlay=dwc2,dr_mode=host',
    ...(endsIn === 'all' ? ['', '[all]'] : []),
  ];
  return lines.join('\n') + '\n';
}

const ISSUE_TXT =
  'Raspberry Pi reference 2024-11-19\nGenerated using pi-gen, https://github.com/RPi-Distro/pi-gen, stage2\n';

const OVERLAYS_README = [
  'Introduction',
  '============',
  '',
  'This directory contains Device Tree overlays. Device Tree makes it possible',
  'to support many hardware configurations with a single kernel and without the',
  'need to explicitly load or blacklist kernel modules.',
  '',
  'Name:   disable-wifi',
  'Info:   Disable onboard WLAN on boards with it fitted',
  'Load:   dtoverlay=disable-wifi',
  'Params: <None>',
  '',
].join('\n');

export function sampleBootFiles(layout: SampleLayout): SampleFile[] {
  const firstBootFiles: SampleFile[] =
    layout.firstBoot === 'firstrun'
      ? [{ path: 'firstrun.sh', content: renderFirstrunScript(layout.placeholder, layout.imagerStyle) }]
      : Object.entries(renderCloudInitFiles(layout.placeholder)).map(([path, content]) => ({
          path,
          content,
        }));
  return [
    { path: 'bcm2712-rpi-5-b.dtb', content: pseudoRandomBytes('bcm2712-rpi-5-b.dtb', 80 * KIB) },
    { path: 'cmdline.txt', content: renderCmdlineTxt(layout) },
    { path: 'config.txt', content: renderConfigTxt(layout.configTxtEndsIn) },
    { path: 'initramfs_2712', content: pseudoRandomBytes('initramfs_2712', 192 * KIB) },
    { path: 'initramfs8', content: pseudoRandomBytes('initramfs8', 192 * KIB) },
    { path: 'issue.txt', content: ISSUE_TXT },
    { path: 'kernel_2712.img', content: pseudoRandomBytes('kernel_2712.img', 384 * KIB) },
    { path: 'kernel8.img', content: pseudoRandomBytes('kernel8.img', 384 * KIB) },
    { path: 'overlays/README', content: OVERLAYS_README },
    { path: 'overlays/disable-wifi.dtbo', content: pseudoRandomBytes('disable-wifi.dtbo', 2 * KIB) },
    ...firstBootFiles,
  ];
}

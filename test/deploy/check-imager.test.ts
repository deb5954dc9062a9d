import test from 'ava';
import type { Manifest } from '../../src/image/manifest.ts';
import { checkImager } from '../../src/deploy/check-imager.ts';
import { resolveDeployTarget } from '../../src/deploy/deploy-target.ts';
import type { ImagerFacts } from '../../src/deploy/imager-facts.ts';
import { ONE_SHOT_BOOT_SINCE } from '../../src/deploy/send-to-imager.ts';
import { bootloaderDate } from '../../src/values/pi-facts.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import { PROJECT_DIR, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';

/* Preflight's judgement, pure: the facts an imager reports and every problem they show, at once. */

async function pi1Target() {
  const lab = await loadLab(SAMPLE_LAB_FILE, { projectDir: PROJECT_DIR });
  const host = lab.hosts.find((h) => h.name === 'pi1');
  if (!host) throw new Error('the sample lab has no pi1');
  return resolveDeployTarget(lab, host);
}

const GOOD: ImagerFacts = {
  hostname: 'imager1',
  root: { source: '/dev/mmcblk0p2', target: '/', fstype: 'ext4' },
  boot: { source: '/dev/mmcblk0p1', target: '/boot/firmware', fstype: 'vfat' },
  devices: [
    { name: 'mmcblk0', type: 'disk', size: 32e9 },
    { name: 'mmcblk0p1', parent: 'mmcblk0', type: 'part', size: 5e8, mountpoint: '/boot/firmware' },
    { name: 'mmcblk0p2', parent: 'mmcblk0', type: 'part', size: 31e9, mountpoint: '/' },
    { name: 'sda', type: 'disk', size: 500e9 },
    { name: 'sda1', parent: 'sda', type: 'part', size: 5e8 },
  ],
  tools: new Set(['ocs-sr', 'partclone.vfat', 'partclone.ext4', 'sfdisk', 'sha256sum', 'mtype']),
  image: { manifest: { host: 'pi1', version: 'pi1-0123456789ab' } as Manifest, diskBytes: 64e9 },
  checksumFailures: [],
};

test('a good imager has no problems', async (t) => {
  t.deepEqual(checkImager(await pi1Target(), GOOD), []);
});

test('every problem is reported at once: name, SD card, partition target, tools, image', async (t) => {
  const problems = checkImager(await pi1Target(), {
    ...GOOD,
    hostname: 'imager2',
    root: { source: '/dev/sda2', target: '/', fstype: 'ext4' },
    devices: [
      ...GOOD.devices.map((d) => (d.name === 'sda1' ? { ...d, mountpoint: '/mnt' } : d)),
      { name: 'sda2', parent: 'sda', type: 'part', size: 4e9, mountpoint: '/' },
    ],
    tools: new Set(['sfdisk', 'sha256sum']),
    image: { manifest: { host: 'pi2', version: 'pi2-0123456789ab' } as Manifest, diskBytes: 64e9 },
    checksumFailures: ['sda2.ext4-ptcl-img.gz.aa'],
  });
  const text = problems.join('\n');
  t.regex(text, /answers as "imager2", not as imager1/);
  t.regex(text, /runs from sda, not from its SD card mmcblk0/);
  t.regex(text, /runs from sda itself: refusing to overwrite the disk it runs from/);
  t.regex(
    text,
    /lacks ocs-sr, partclone\.vfat, partclone\.ext4, mtype: install with `sudo apt-get install -y clonezilla partclone mtools` there/,
  );
  t.regex(text, /the image under pi1 on the share is pi2's/);
  t.regex(text, /sda2\.ext4-ptcl-img\.gz\.aa does not match the image's manifest/);
  t.is(problems.length, 6);
});

test('a mounted partition of the target, a partition as target, a missing disk', async (t) => {
  const target = await pi1Target();
  const mounted = GOOD.devices.map((d) => (d.name === 'sda1' ? { ...d, mountpoint: '/media/usb' } : d));
  t.deepEqual(checkImager(target, { ...GOOD, devices: mounted }), [
    'imager1 (imager1.local): sda1 is mounted at /media/usb; unmount it first (nothing may use the disk being restored)',
  ]);
  t.regex(checkImager({ ...target, disk: 'sda1' }, GOOD).join('\n'), /sda1 is a part, not a whole disk/);
  t.regex(
    checkImager(target, { ...GOOD, devices: GOOD.devices.filter((d) => !d.name.startsWith('sda')) }).join(
      '\n',
    ),
    /has no disk sda \(disks there: mmcblk0\): is the USB disk plugged in\?/,
  );
});

test('bootloader dates: one-shot boot orders from 2025-01-14 on', (t) => {
  t.is(bootloaderDate('2025/02/12 10:51:52\nversion 8ae6f44a (release)'), '2025-02-12');
  t.is(bootloaderDate('Sep 23 2024 13:02:56'), undefined);
  t.true((bootloaderDate('2025/01/14 00:00:00') ?? '') >= ONE_SHOT_BOOT_SINCE);
  t.false((bootloaderDate('2024/09/23 13:02:56') ?? '') >= ONE_SHOT_BOOT_SINCE);
});

import { createHash } from 'node:crypto';
import test from 'ava';
import { compareDrift, expectedFiles, parseFoundFiles } from '../../src/status/drift.ts';
import type { Manifest } from '../../src/image/manifest.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const BAKED_CMDLINE =
  'console=serial0,115200 root=PARTUUID=1234-02 rootwait cfg80211.ieee80211_regdom=GB systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target';

function manifest(): Manifest {
  return {
    schema: 1,
    host: 'pi1',
    recipe: 'node',
    version: 'pi1-0123456789ab',
    inputKey: 'k',
    inputs: {
      cleanImage: { name: 'c', id: 'i' },
      labEntry: '',
      recipe: '',
      overlays: {},
      tools: {},
      pipeline: '',
    },
    partitions: {},
    written: {
      sda1: {
        '/cmdline.txt': `sha256:${sha(BAKED_CMDLINE)} 0644 0:0`,
        '/firstrun.sh': `sha256:${sha('#!/bin/bash\n')} 0755 0:0`,
        '/pi-lab-image.json': `sha256:${sha('{}')} 0644 0:0`,
      },
      sda2: {
        '/etc/ssh/sshd_config.d/10-key-only.conf': `sha256:${sha('PasswordAuthentication no\n')} 0644 0:0`,
        '/etc/systemd/system/multi-user.target.wants/x.service': '-> /etc/systemd/system/x.service',
      },
    },
    files: {},
  };
}

const found = (lines: string[]) => parseFoundFiles(lines.join('\n'));

test('the bake wrote the boot files under /boot/firmware and the root files where they are', (t) => {
  t.deepEqual(
    expectedFiles(manifest()).map((file) => [file.path, file.onBoot]),
    [
      ['/boot/firmware/cmdline.txt', true],
      ['/boot/firmware/firstrun.sh', true],
      ['/boot/firmware/pi-lab-image.json', true],
      ['/etc/ssh/sshd_config.d/10-key-only.conf', false],
      ['/etc/systemd/system/multi-user.target.wants/x.service', false],
    ],
  );
});

test('after its first boot: firstrun.sh gone and its hook cut from cmdline.txt are expected, not drift; a root-only file is unverified', (t) => {
  const afterFirstBoot = BAKED_CMDLINE.replace(/ systemd\.run.*/, '');
  const drift = compareDrift(
    expectedFiles(manifest()),
    found([
      `F\t/boot/firmware/cmdline.txt\t${sha(afterFirstBoot)}\t755 0:0`,
      'M\t/boot/firmware/firstrun.sh',
      `F\t/boot/firmware/pi-lab-image.json\t${sha('{}')}\t755 0:0`,
      'U\t/etc/ssh/sshd_config.d/10-key-only.conf',
      'L\t/etc/systemd/system/multi-user.target.wants/x.service\t/etc/systemd/system/x.service',
    ]),
    afterFirstBoot,
  );
  t.deepEqual(drift.changed, []);
  t.is(drift.checked, 4);
  t.deepEqual(
    drift.unverified,
    ['/etc/ssh/sshd_config.d/10-key-only.conf'],
    'root-only, sudo refused: not read',
  );
  t.deepEqual(
    drift.firstBoot.map((finding) => finding.path),
    ['/boot/firmware/cmdline.txt', '/boot/firmware/firstrun.sh'],
  );
});

test('drift: content, mode, owner, a symlink moved, a file removed; a cmdline.txt edited by hand', (t) => {
  const edited = 'console=serial0,115200 root=PARTUUID=1234-02 rootwait quiet';
  const drift = compareDrift(
    expectedFiles(manifest()),
    found([
      `F\t/boot/firmware/cmdline.txt\t${sha(edited)}\t755 0:0`,
      'M\t/boot/firmware/firstrun.sh',
      'M\t/boot/firmware/pi-lab-image.json',
      `F\t/etc/ssh/sshd_config.d/10-key-only.conf\t${sha('PasswordAuthentication yes\n')}\t600 1000:1000`,
      'L\t/etc/systemd/system/multi-user.target.wants/x.service\t/dev/null',
    ]),
    edited,
  );
  t.deepEqual(drift.changed, [
    { path: '/boot/firmware/cmdline.txt', what: 'content changed' },
    { path: '/boot/firmware/pi-lab-image.json', what: 'missing' },
    {
      path: '/etc/ssh/sshd_config.d/10-key-only.conf',
      what: 'content changed; mode 0600, baked 0644; owner 1000:1000, baked 0:0',
    },
    {
      path: '/etc/systemd/system/multi-user.target.wants/x.service',
      what: 'points to /dev/null, not /etc/systemd/system/x.service',
    },
  ]);
});

import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import {
  listFatDir,
  partitionOffset,
  readDiskTable,
  readExt4Text,
  readFatText,
  statExt4,
} from '../helpers/disk-readers.ts';
import { isRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/** cmp exits 1 on the first differing byte; reading 240 MB images into memory would be slower. */
async function sameBytes(a: string, b: string): Promise<void> {
  await runCommand(command('cmp', [a, b]));
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Serial tests run first, so the timing is not taken while the other builds compete for the CPU.
test.serial('the default sample disk is built fast, with the Raspberry Pi OS layout', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const started = Date.now();
  const disk = await makeSampleDisk({ path: path.join(temp.path, 'disk.img'), firstBoot: 'firstrun' });
  const elapsed = Date.now() - started;
  t.true(elapsed < 5000, `took ${elapsed} ms`);
  t.log(`built in ${elapsed} ms`);

  const table = await readDiskTable(disk.path);
  t.is(table.diskId, disk.diskId);
  t.deepEqual(table.partitions, [
    { number: 1, start: 16384, size: 64 * 2048, type: 'c' },
    { number: 2, start: 16384 + 64 * 2048, size: 160 * 2048, type: '83' },
  ]);
  t.deepEqual(disk.boot, { startSector: 16384, sizeSectors: 64 * 2048 });
  t.is((await stat(disk.path)).size, disk.sectors * 512);
  const blkid = await runCommand(
    command('blkid', ['-p', '-O', String(disk.boot.startSector * 512), disk.path]),
  );
  t.regex(blkid.stdout, /LABEL="bootfs"/);
  t.regex(blkid.stdout, /TYPE="vfat"/);
});

test('boot files follow Imager: one-line cmdline.txt, firstrun.sh with the placeholder', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const disk = await makeSampleDisk({
    path: path.join(temp.path, 'disk.img'),
    firstBoot: 'firstrun',
    bootStartSector: 8192,
  });
  const boot = await partitionOffset(disk.path, 'boot');
  t.is(boot, 8192 * 512);

  const cmdline = await readFatText(disk.path, boot, 'cmdline.txt');
  t.false(cmdline.includes('\n'), 'one line, no trailing newline');
  t.true(cmdline.includes(`root=PARTUUID=${disk.diskId}-02 `));
  t.true(
    cmdline.endsWith(
      'systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target',
    ),
  );

  const firstrun = await readFatText(disk.path, boot, 'firstrun.sh');
  t.true(firstrun.startsWith('#!/bin/bash\n'));
  t.true((firstrun.match(/changeme/g) ?? []).length >= 3);
  t.regex(firstrun, /imager_custom set_hostname changeme\n/);
  t.regex(firstrun, /enable_ssh -k 'ssh-ed25519 /);
  t.true(
    firstrun.endsWith("rm -f /boot/firstrun.sh\nsed -i 's| systemd.run.*||g' /boot/cmdline.txt\nexit 0\n"),
  );

  const config = await readFatText(disk.path, boot, 'config.txt');
  t.true(config.trimEnd().endsWith('[cm5]\ndtoverlay=dwc2,dr_mode=host'), 'ends inside [cm5] by default');
  const names = await listFatDir(disk.path, boot);
  for (const name of ['kernel8.img', 'kernel_2712.img', 'bcm2712-rpi-5-b.dtb', 'issue.txt', 'overlays']) {
    t.true(names.includes(name), `${name} in ${names.join(' ')}`);
  }
  t.regex(await readFatText(disk.path, boot, 'overlays/README'), /disable-wifi/);
});

test('the cloud-init form has NoCloud seed files and ds=nocloud, and config.txt can end in [all]', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const disk = await makeSampleDisk({
    path: path.join(temp.path, 'disk.img'),
    firstBoot: 'cloud-init',
    configTxtEndsIn: 'all',
    placeholder: 'blank-host',
    diskId: 'DEADBEEF',
  });
  t.is(disk.diskId, 'deadbeef');
  const boot = await partitionOffset(disk.path, 'boot');
  const cmdline = await readFatText(disk.path, boot, 'cmdline.txt');
  t.true(cmdline.endsWith(' ds=nocloud;i=rpi-imager-1732000000000'));
  t.false(cmdline.includes('systemd.run'));
  const userData = await readFatText(disk.path, boot, 'user-data');
  t.true(userData.startsWith('#cloud-config\n'));
  t.regex(userData, /^hostname: blank-host$/m);
  t.regex(userData, /^manage_etc_hosts: true$/m);
  t.regex(userData, /ssh_authorized_keys:\n {4}- ssh-ed25519 /);
  t.is(await readFatText(disk.path, boot, 'meta-data'), 'instance-id: rpi-imager-1732000000000\n');
  t.regex(await readFatText(disk.path, boot, 'network-config'), /^network:\n {2}version: 2\n/);
  t.false((await listFatDir(disk.path, boot)).includes('firstrun.sh'));
  t.true(
    (await readFatText(disk.path, boot, 'config.txt')).endsWith(
      '[cm5]\ndtoverlay=dwc2,dr_mode=host\n\n[all]\n',
    ),
  );
  const fstab = await readExt4Text(disk.path, await partitionOffset(disk.path, 'root'), 'etc/fstab');
  t.regex(fstab, /^PARTUUID=deadbeef-01 +\/boot\/firmware +vfat /m);
});

test('Imager 2.x style firstrun.sh uses sh and $(...)', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const disk = await makeSampleDisk({
    path: path.join(temp.path, 'disk.img'),
    firstBoot: 'firstrun',
    imagerStyle: '2.x',
  });
  const firstrun = await readFatText(disk.path, await partitionOffset(disk.path, 'boot'), 'firstrun.sh');
  t.true(firstrun.startsWith('#!/bin/sh\n'));
  t.false(firstrun.includes('`'));
  t.regex(firstrun, /CURRENT_HOSTNAME=\$\(cat \/etc\/hostname/);
  const syntax = await runCommand(command('sh', ['-n']), { input: firstrun, okExitCodes: [1, 2] });
  t.is(syntax.exitCode, 0, syntax.stderr);
});

test('root files are owned by root (pi owns its home) and the ext4 filesystem is clean', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const disk = await makeSampleDisk({ path: path.join(temp.path, 'disk.img'), firstBoot: 'firstrun' });
  const root = await partitionOffset(disk.path, 'root');
  t.is(await readExt4Text(disk.path, root, 'etc/hostname'), 'raspberrypi\n');
  t.regex(await readExt4Text(disk.path, root, 'etc/hosts'), /^127\.0\.1\.1\s+raspberrypi$/m);
  t.regex(
    await readExt4Text(disk.path, root, 'etc/fstab'),
    new RegExp(`^PARTUUID=${disk.diskId}-02 +/ +ext4 `, 'm'),
  );
  t.regex(await readExt4Text(disk.path, root, 'etc/os-release'), /VERSION_CODENAME=bookworm/);
  t.regex(
    await readExt4Text(disk.path, root, 'etc/ssh/sshd_config'),
    /^Include \/etc\/ssh\/sshd_config\.d\/\*\.conf$/m,
  );
  t.like(await statExt4(disk.path, root, 'etc/hostname'), { type: 'regular', mode: 0o644, uid: 0, gid: 0 });
  t.like(await statExt4(disk.path, root, 'etc/ssh/sshd_config.d'), { type: 'directory', uid: 0, gid: 0 });
  t.like(await statExt4(disk.path, root, 'usr/local/sbin'), { type: 'directory', uid: 0, gid: 0 });
  t.like(await statExt4(disk.path, root, 'etc/NetworkManager/system-connections'), { mode: 0o700, uid: 0 });
  t.like(await statExt4(disk.path, root, 'home/pi'), {
    type: 'directory',
    mode: 0o700,
    uid: 1000,
    gid: 1000,
  });
  t.like(await statExt4(disk.path, root, 'tmp'), { mode: 0o1777 });
  await t.throwsAsync(statExt4(disk.path, root, 'etc/dnsmasq.d'), { message: /not found/i });
  const used = await runCommand(command('debugfs', ['-R', 'stats', `${disk.path}?offset=${root}`]));
  const free = Number(/Free blocks:\s+(\d+)/.exec(used.stdout)?.[1]);
  const total = Number(/Block count:\s+(\d+)/.exec(used.stdout)?.[1]);
  t.true((total - free) * 4096 > 3 * 1024 * 1024, 'a few MB of content');
  const fsck = await runCommand(command('e2fsck', ['-fn', `${disk.path}?offset=${root}`]));
  t.regex(fsck.stdout, /rootfs: \d+\/\d+ files/);
});

test('the same options give the same bytes', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const first = await makeSampleDisk({ path: path.join(temp.path, 'a.img'), firstBoot: 'firstrun' });
  const second = await makeSampleDisk({ path: path.join(temp.path, 'b.img'), firstBoot: 'firstrun' });
  await t.notThrowsAsync(sameBytes(first.path, second.path));
});

test('extra directories are added to both filesystems; sample files win a clash', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const rootExtra = path.join(temp.path, 'root-extra');
  const bootExtra = path.join(temp.path, 'boot-extra');
  await mkdir(path.join(rootExtra, 'opt/data'), { recursive: true });
  await mkdir(path.join(rootExtra, 'etc'), { recursive: true });
  await mkdir(path.join(bootExtra, 'overlays'), { recursive: true });
  await writeFile(path.join(rootExtra, 'opt/data/payload.txt'), 'payload\n');
  await writeFile(path.join(rootExtra, 'etc/hostname'), 'not-the-sample\n');
  await writeFile(path.join(bootExtra, 'overlays/extra.dtbo'), 'dtbo\n');
  const disk = await makeSampleDisk({
    path: path.join(temp.path, 'disk.img'),
    firstBoot: 'firstrun',
    rootExtraDir: rootExtra,
    bootExtraDir: bootExtra,
  });
  const root = await partitionOffset(disk.path, 'root');
  const boot = await partitionOffset(disk.path, 'boot');
  t.is(await readExt4Text(disk.path, root, 'opt/data/payload.txt'), 'payload\n');
  t.like(await statExt4(disk.path, root, 'opt/data/payload.txt'), { uid: 0, gid: 0 });
  t.is(await readExt4Text(disk.path, root, 'etc/hostname'), 'raspberrypi\n');
  t.is(await readFatText(disk.path, boot, 'overlays/extra.dtbo'), 'dtbo\n');
  t.regex(await readFatText(disk.path, boot, 'overlays/README'), /disable-wifi/);
  t.is(
    await readFile(path.join(rootExtra, 'etc/hostname'), 'utf8'),
    'not-the-sample\n',
    'the caller’s files are untouched',
  );
});

test('an unprivileged user can make the sample disk, byte-identical to root’s', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  await chmod(temp.path, 0o777);
  const asCaller = path.join(temp.path, 'caller.img');
  const asNobody = path.join(temp.path, 'nobody.img');
  await makeSampleDisk({ path: asCaller, firstBoot: 'firstrun' });
  const script = ['--import=tsx', path.join(projectRoot, 'test/helpers/make-sample-disk-cli.ts')];
  const options = JSON.stringify({ path: asNobody, firstBoot: 'firstrun' });
  // As root, drop to nobody; otherwise this run is already unprivileged.
  const [program, args] = isRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...script, options]]
    : [process.execPath, [...script, options]];
  const env = { HOME: temp.path, TMPDIR: temp.path, PATH: '/usr/bin:/bin' };
  const result = await runCommand(command(program, args, { env, cwd: projectRoot }));
  t.like(JSON.parse(result.stdout), { path: asNobody, diskId: '4e1d6b2a' });
  if (isRoot) t.is((await stat(asNobody)).uid, 65534);
  await t.notThrowsAsync(sameBytes(asNobody, asCaller));
});

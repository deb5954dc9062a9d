import test from 'ava';
import { kernelKind, readBootConfig } from '../../src/boot-test/boot-config.ts';
import { qemuCommand, vmCommandLine } from '../../src/boot-test/qemu-command.ts';
import { labSwitch, localMac } from '../../src/boot-test/virtual-switch.ts';
import { renderSfdiskInput } from '../../src/boot-test/disk-from-image.ts';
import { parseSfdiskDump } from '../../src/clonezilla/partition-table.ts';
import { renderConfigTxt } from '../../src/sample/boot-files.ts';

test('a Raspberry Pi OS config.txt boots the Pi 5 kernel and its automatic initramfs', (t) => {
  t.deepEqual(readBootConfig(renderConfigTxt('cm5')), {
    kernel: 'kernel_2712.img',
    initramfs: 'initramfs_2712',
  });
});

test('kernel= and initramfs under [all] are followed; lines for other boards are not', (t) => {
  const config = [
    'auto_initramfs=1',
    '[cm5]',
    'kernel=cm5-only.img',
    '[all]',
    'kernel=vmlinuz',
    'initramfs initrd.img followkernel',
    '[pi4]',
    'initramfs pi4-only.img',
  ].join('\n');
  t.deepEqual(readBootConfig(config), { kernel: 'vmlinuz', initramfs: 'initrd.img' });
});

test('without auto_initramfs or an initramfs line there is no initramfs', (t) => {
  t.deepEqual(readBootConfig('kernel=vmlinuz\n'), { kernel: 'vmlinuz', initramfs: undefined });
});

test('kernel kinds are told apart by their headers', (t) => {
  const x86 = Buffer.alloc(0x400);
  x86.write('HdrS', 0x202, 'latin1');
  const arm64 = Buffer.alloc(0x400);
  arm64.write('ARM\x64', 0x38, 'latin1');
  t.is(kernelKind(x86), 'x86_64');
  t.is(kernelKind(arm64), 'arm64');
  t.is(kernelKind(Buffer.from('not a kernel')), 'unknown');
});

test('the VM command line is cmdline.txt with the serial console last and Pi-style interface names', (t) => {
  const line = vmCommandLine('console=serial0,115200 console=tty1 root=PARTUUID=4e1d6b2a-02 quiet\n');
  t.is(
    line,
    'console=serial0,115200 console=tty1 root=PARTUUID=4e1d6b2a-02 quiet net.ifnames=0 console=ttyS0,115200',
  );
});

const VM = {
  disk: '/w/pi1.img',
  kernel: '/w/k',
  initrd: '/w/i',
  append: 'root=x',
  serialLog: '/l/pi1-boot-1.log',
  accel: 'tcg',
  memoryMiB: 1024,
} as const;

test('QEMU never reboots by itself and joins each NIC as asked', (t) => {
  const cmd = qemuCommand({
    disk: '/w/pi1.img',
    kernel: '/w/k',
    initrd: '/w/i',
    append: 'root=x',
    serialLog: '/l/pi1-boot-1.log',
    nics: [
      { kind: 'user', sshPort: 2222 },
      { kind: 'switch-port', port: 4100, mac: 'd8:3a:dd:f7:78:e0' },
    ],
    accel: 'tcg',
    memoryMiB: 1024,
  });
  t.is(cmd.program, 'qemu-system-x86_64');
  t.true(cmd.args.includes('-no-reboot'));
  t.true(cmd.args.includes('user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22'));
  t.true(cmd.args.includes('socket,id=net1,connect=127.0.0.1:4100'));
  t.true(cmd.args.includes('virtio-net-pci,netdev=net1,mac=d8:3a:dd:f7:78:e0'));
  t.true(cmd.args.includes('file=/w/pi1.img,format=raw,if=virtio,cache=unsafe'));
});

test('a saved partition table is written back with its disk identifier and extents', (t) => {
  const dump = [
    'label: dos',
    'label-id: 0x4e1d6b2a',
    'device: /dev/sda',
    'unit: sectors',
    'sector-size: 512',
    '',
    '/dev/sda1 : start=       16384, size=      262144, type=c',
    '/dev/sda2 : start=      278528, size=     3145728, type=83',
  ].join('\n');
  t.is(
    renderSfdiskInput(parseSfdiskDump(dump)),
    'label: dos\nlabel-id: 0x4e1d6b2a\nunit: sectors\n\nstart=16384, size=262144, type=c\nstart=278528, size=3145728, type=83\n',
  );
});

test('the router hubs its lab NIC with one listening socket per node; each node connects to its own', (t) => {
  const wiring = labSwitch(
    2222,
    [4101, 4102],
    [
      { name: 'pi1', mac: 'd8:3a:dd:f7:78:e0' },
      { name: 'pi2', mac: undefined },
    ],
  );
  const router = qemuCommand({ ...VM, nics: wiring.router }).args;
  t.true(router.includes('hubport,id=net0,hubid=0'));
  t.true(router.includes('socket,id=net0-node0,listen=127.0.0.1:4101'));
  t.true(router.includes('hubport,id=net0-port1,hubid=0,netdev=net0-node1'));
  t.true(router.includes('user,id=net1,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22'));
  // eth0 is the lab side, eth1 the uplink: NICs are named in the order they are given.
  t.true(
    router.indexOf('virtio-net-pci,netdev=net0,mac=' + localMac('router')) <
      router.indexOf('virtio-net-pci,netdev=net1'),
  );
  t.deepEqual(wiring.nodes[0], [{ kind: 'switch-port', mac: 'd8:3a:dd:f7:78:e0', port: 4101 }]);
  t.regex(wiring.nodes[1]?.[0]?.mac ?? '', /^52:54:00(:[0-9a-f]{2}){3}$/);
});

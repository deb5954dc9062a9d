import path from 'node:path';
import test from 'ava';
import { cliOutput, runBakeCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { savedCleanImage } from '../helpers/clonezilla-fixtures.ts';
import { readDiskTable } from '../helpers/disk-readers.ts';
import { restoreImageToDisk } from '../helpers/ocs-restore.ts';
import { readFatString, statExt4Entry } from '../helpers/partition-files.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import {
  assertFirstrunNames,
  type ImageMarker,
  overlaySource,
  readManifest,
  SAMPLE_DHCP_HOSTS,
  SSH_DROP_IN,
} from './sample-lab-expectations.ts';

/* The router pi0 of the sample lab, baked from the firstrun-8192-cm5 fixture and restored by real ocs-sr. */

const rootTest = skipUnlessRoot(test);
/** ocs-sr takes 45-90 s on an idle machine, several times that on a busy one. */
const RESTORE_TIMEOUT_SECONDS = 540;

rootTest(
  'pi0 restored by real ocs-sr: DHCP, LAN address, forwarding, NAT, setup unit, key-only SSH',
  async (t) => {
    const image = await savedCleanImage('firstrun-8192-cm5');
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const outDir = path.join(temp.path, 'images');
    const bake = await runBakeCli(['pi0', '--lab', SAMPLE_LAB_FILE, '--clean', image.dir, '--out', outDir]);
    t.is(bake.exitCode, 0, cliOutput(bake));

    const restored = await restoreImageToDisk({
      imageRoot: outDir,
      imageName: 'pi0',
      diskFile: path.join(temp.path, 'pi0.img'),
      timeoutSeconds: RESTORE_TIMEOUT_SECONDS,
    });
    t.teardown(() => restored.cleanup());
    const cleanBoot = `${image.disk.path}@@${image.disk.boot.startSector * 512}`;
    const rootFs = `${restored.diskFile}?offset=${image.disk.root.startSector * 512}`;

    // Boot partition.
    t.is(await restored.readBootFile('cmdline.txt'), await readFatString(cleanBoot, 'cmdline.txt'));
    assertFirstrunNames(
      t,
      await restored.readBootFile('firstrun.sh'),
      await readFatString(cleanBoot, 'firstrun.sh'),
      'pi0',
    );
    t.is(
      await restored.readBootFile('config.txt'),
      await readFatString(cleanBoot, 'config.txt'),
      'no config.txt line',
    );
    const manifest = await readManifest(path.join(outDir, 'pi0'));
    t.like(JSON.parse(await restored.readBootFile('pi-lab-image.json')) as ImageMarker, {
      host: 'pi0',
      version: manifest.version,
    });

    // What every recipe gets.
    t.deepEqual(await restored.statRootFile(SSH_DROP_IN), { type: 'regular', mode: 0o644, uid: 0, gid: 0 });
    t.true((await restored.readRootFile(SSH_DROP_IN)).split('\n').includes('PasswordAuthentication no'));

    // DHCP for the lab: interface, range with netmask and lease, one reservation per reserved host.
    const dnsmasq = (await restored.readRootFile('etc/dnsmasq.d/lab.conf')).split('\n');
    t.true(dnsmasq.includes('interface=eth0'), dnsmasq.join('\n'));
    t.true(dnsmasq.includes('dhcp-range=192.168.87.11,192.168.87.99,255.255.255.0,24h'), dnsmasq.join('\n'));
    t.true(dnsmasq.includes('dhcp-option=option:router,192.168.87.1'), dnsmasq.join('\n'));
    t.deepEqual(
      dnsmasq.filter((line) => line.startsWith('dhcp-host=')),
      SAMPLE_DHCP_HOSTS,
    );
    t.false(
      dnsmasq.some((line) => line.includes('{{')),
      'every template name rendered',
    );
    t.like(await restored.statRootFile('etc/dnsmasq.d/lab.conf'), {
      type: 'regular',
      mode: 0o644,
      uid: 0,
      gid: 0,
    });

    // NetworkManager ignores a keyfile that is not root's with mode 0600.
    const keyfile = 'etc/NetworkManager/system-connections/lab-lan.nmconnection';
    t.deepEqual(await restored.statRootFile(keyfile), { type: 'regular', mode: 0o600, uid: 0, gid: 0 });
    const keyfileLines = (await restored.readRootFile(keyfile)).split('\n');
    t.true(keyfileLines.includes('address1=192.168.87.1/24'), keyfileLines.join('\n'));
    t.true(keyfileLines.includes('interface-name=eth0'), keyfileLines.join('\n'));

    t.is(
      await restored.readRootFile('etc/sysctl.d/90-lab-forwarding.conf'),
      await overlaySource('router/rootfs/etc/sysctl.d/90-lab-forwarding.conf'),
    );
    t.true(
      (await restored.readRootFile('etc/sysctl.d/90-lab-forwarding.conf')).includes(
        'net.ipv4.ip_forward=1\n',
      ),
    );
    const rules = (await restored.readRootFile('etc/iptables/rules.v4')).split('\n');
    t.true(rules.includes('-A POSTROUTING -o wlan0 -j MASQUERADE'), rules.join('\n'));
    t.true(rules.includes('*nat') && rules.includes('COMMIT'));

    // The one-shot setup: unit, executable script, and the link `systemctl enable` would make.
    t.is(
      await restored.readRootFile('etc/systemd/system/lab-router-setup.service'),
      await overlaySource('router/rootfs/etc/systemd/system/lab-router-setup.service'),
    );
    t.deepEqual(await restored.statRootFile('usr/local/sbin/lab-router-setup'), {
      type: 'regular',
      mode: 0o755,
      uid: 0,
      gid: 0,
    });
    t.is(
      await restored.readRootFile('usr/local/sbin/lab-router-setup'),
      await overlaySource('router/rootfs/usr/local/sbin/lab-router-setup'),
    );
    t.like(
      await statExt4Entry(rootFs, 'etc/systemd/system/multi-user.target.wants/lab-router-setup.service'),
      {
        type: 'symlink',
        linkTo: '/etc/systemd/system/lab-router-setup.service',
      },
    );
    t.is(
      await restored.readRootFile('etc/systemd/system/dnsmasq.service.d/10-after-network-online.conf'),
      await overlaySource('router/rootfs/etc/systemd/system/dnsmasq.service.d/10-after-network-online.conf'),
    );

    // The disk itself: identifier and partition table as in the clean image.
    t.is(await restored.diskIdentifier(), image.disk.diskId);
    t.deepEqual(await readDiskTable(restored.diskFile), await readDiskTable(image.disk.path));
  },
);

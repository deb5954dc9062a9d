import test from 'ava';
import { renderCustomizeHook, stagedRootFiles } from '../../src/sample-os/sample-os-root.ts';
import { mmdebstrapCommand, sampleOsKey, sampleOsSpec } from '../../src/sample-os/sample-os-spec.ts';

test('each flavour has its own cache key; the same inputs give the same key', (t) => {
  t.is(sampleOsKey(sampleOsSpec('firstrun')), sampleOsKey(sampleOsSpec('firstrun')));
  t.not(sampleOsKey(sampleOsSpec('firstrun')), sampleOsKey(sampleOsSpec('cloud-init')));
  t.not(
    sampleOsKey(sampleOsSpec('firstrun')),
    sampleOsKey(sampleOsSpec('firstrun', 'http://mirror.example/debian')),
  );
});

test('the cloud-init flavour carries cloud-init and points NoCloud at the boot partition', (t) => {
  t.true(sampleOsSpec('cloud-init').packages.includes('cloud-init'));
  t.false(sampleOsSpec('firstrun').packages.includes('cloud-init'));
  const seed = stagedRootFiles('4e1d6b2a', 'cloud-init').find((file) => file.path.startsWith('etc/cloud/'));
  t.regex(seed?.content ?? '', /fs_label: bootfs/);
});

test('firstrun.sh must turn SSH on itself: the firstrun flavour ships it off, with the uid-1000 user it renames', (t) => {
  const firstrun = renderCustomizeHook(sampleOsSpec('firstrun'), '/stage');
  t.regex(firstrun, /systemctl --root="\$root" disable ssh\.service/);
  t.regex(firstrun, /useradd .*--uid 1000 .* pi$/m);
  const cloudInit = renderCustomizeHook(sampleOsSpec('cloud-init'), '/stage');
  t.notRegex(cloudInit, /disable ssh\.service|useradd/);
});

test('the router packages are downloaded into the local archive, not installed', (t) => {
  const hook = renderCustomizeHook(sampleOsSpec('firstrun'), '/stage');
  t.regex(hook, /--download-only install dnsmasq iptables-persistent/);
  t.regex(hook, /apt-ftparchive packages \. >Packages/);
  const sources = stagedRootFiles('4e1d6b2a', 'firstrun').find(
    (file) => file.path === 'etc/apt/sources.list',
  );
  t.is(sources?.content, 'deb [trusted=yes] file:/var/local/pi-lab-archive ./\n');
  const args = mmdebstrapCommand(
    sampleOsSpec('firstrun'),
    '/out/root.tar',
    { initramfs: '/i', customize: '/c' },
    'unshare',
  ).args;
  t.true(args.includes('--mode=unshare'));
  t.false(args.some((arg) => arg.includes('dnsmasq')));
});

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import type { Lab, LabHost } from '../../src/lab/lab-types.ts';
import { loadOverlay } from '../../src/recipes/load-overlay.ts';
import { loadRecipe } from '../../src/recipes/load-recipe.ts';
import type { Recipe } from '../../src/recipes/recipe-types.ts';
import { renderHostFiles, type FileSpec, type HostFiles } from '../../src/recipes/render-host-files.ts';
import { makeProject, PROJECT_DIR } from './project-fixture.ts';

const run = promisify(execFile);

async function sampleLab(): Promise<Lab> {
  return loadLab(path.join(PROJECT_DIR, 'recipes/lab.yaml'), { projectDir: PROJECT_DIR });
}

function hostNamed(lab: Lab, name: string): LabHost {
  const host = lab.hosts.find((candidate) => candidate.name === name);
  if (!host) throw new Error(`no host ${name} in the sample lab`);
  return host;
}

async function filesOf(name: string): Promise<HostFiles> {
  const lab = await sampleLab();
  const host = hostNamed(lab, name);
  const recipe = await loadRecipe(host.recipe ?? '', { projectDir: PROJECT_DIR });
  const overlays = await Promise.all(
    recipe.overlays.map((overlay) => loadOverlay(overlay, { projectDir: PROJECT_DIR })),
  );
  return renderHostFiles(lab, host, recipe, overlays);
}

function file(files: readonly FileSpec[], filePath: string): FileSpec {
  const found = files.find((candidate) => candidate.path === filePath);
  if (!found) throw new Error(`${filePath} was not rendered`);
  return found;
}

/** The lines that are neither comments nor blank. */
function settings(spec: FileSpec): string[] {
  return spec.content
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

test('the router gets dnsmasq settings and reservations from the lab', async (t) => {
  const { rootfs } = await filesOf('pi0');
  t.deepEqual(settings(file(rootfs, '/etc/dnsmasq.d/lab.conf')), [
    'interface=eth0',
    'bind-interfaces',
    'dhcp-authoritative',
    'dhcp-range=192.168.87.11,192.168.87.99,255.255.255.0,24h',
    'dhcp-option=option:router,192.168.87.1',
    'dhcp-host=d8:3a:dd:f7:78:e0,192.168.87.101,pi1',
    'dhcp-host=d8:3a:dd:f7:77:d8,192.168.87.102,pi2',
    'dhcp-host=d8:3a:dd:e9:d4:3e,192.168.87.103,pi3',
    'dhcp-host=1c:69:7a:a2:6f:89,192.168.87.2,data1',
  ]);
});

test("the router's lab connection is root's, mode 0600, with the router address", async (t) => {
  const { rootfs } = await filesOf('pi0');
  const connection = file(rootfs, '/etc/NetworkManager/system-connections/lab-lan.nmconnection');
  t.is(connection.mode, 0o600);
  t.is(connection.uid, 0);
  t.is(connection.gid, 0);
  t.deepEqual(settings(connection), [
    '[connection]',
    'id=lab-lan',
    'type=ethernet',
    'interface-name=eth0',
    'autoconnect=true',
    'autoconnect-priority=100',
    '[ethernet]',
    '[ipv4]',
    'method=manual',
    'address1=192.168.87.1/24',
    '[ipv6]',
    'method=disabled',
  ]);
});

test('the router masquerades the lab out of the uplink, in iptables-save format', async (t) => {
  const { rootfs } = await filesOf('pi0');
  t.deepEqual(settings(file(rootfs, '/etc/iptables/rules.v4')), [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    '-A POSTROUTING -o wlan0 -j MASQUERADE',
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    'COMMIT',
  ]);
  t.deepEqual(settings(file(rootfs, '/etc/sysctl.d/90-lab-forwarding.conf')), ['net.ipv4.ip_forward=1']);
});

test('the router setup runs once at boot, enabled by a symlink', async (t) => {
  const { rootfs, symlinks } = await filesOf('pi0');
  const unit = settings(file(rootfs, '/etc/systemd/system/lab-router-setup.service'));
  for (const line of [
    'Wants=network-online.target',
    'After=network-online.target',
    'ConditionPathExists=!/var/lib/lab-router/installed',
    'Type=oneshot',
    'ExecStart=/usr/local/sbin/lab-router-setup',
    'Restart=on-failure',
    'RestartSec=30',
  ]) {
    t.true(unit.includes(line), line);
  }
  const script = file(rootfs, '/usr/local/sbin/lab-router-setup');
  t.is(script.mode, 0o755);
  const text = script.content.toString('utf8');
  t.true(text.includes('iptables-persistent iptables-persistent/autosave_v4 boolean false'));
  t.true(text.includes('iptables-persistent iptables-persistent/autosave_v6 boolean false'));
  t.regex(
    text,
    /DEBIAN_FRONTEND=noninteractive apt-get install -y [^\n]*\\\n.*\n\s+dnsmasq iptables-persistent\n/,
  );
  t.true(text.indexOf('debconf-set-selections') < text.indexOf('apt-get install'));
  t.true(text.indexOf('systemctl disable lab-router-setup.service') > text.indexOf('touch "$marker"'));
  t.deepEqual(symlinks, [
    {
      target: 'rootfs',
      path: '/etc/systemd/system/multi-user.target.wants/lab-router-setup.service',
      linkTo: '/etc/systemd/system/lab-router-setup.service',
    },
  ]);
});

test('nodes get key-only SSH and nothing of the router', async (t) => {
  const files = await filesOf('pi1');
  t.deepEqual(files.boot, []);
  t.deepEqual(files.symlinks, []);
  t.deepEqual(
    files.rootfs.map((spec) => spec.path),
    ['/etc/ssh/sshd_config.d/10-key-only.conf'],
  );
  const sshd = file(files.rootfs, '/etc/ssh/sshd_config.d/10-key-only.conf');
  t.is(sshd.mode, 0o644);
  t.deepEqual(settings(sshd), [
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AuthenticationMethods publickey',
    'PermitRootLogin no',
  ]);
});

test('output is sorted by path and the same on every run', async (t) => {
  const first = await filesOf('pi0');
  const paths = first.rootfs.map((spec) => spec.path);
  t.deepEqual(paths, [...paths].sort());
  t.deepEqual(await filesOf('pi0'), first);
});

test('the setup script is valid sh', async (t) => {
  await t.notThrowsAsync(
    run('sh', ['-n', path.join(PROJECT_DIR, 'overlays/router/rootfs/usr/local/sbin/lab-router-setup')]),
  );
});

test('systemd accepts the setup unit', async (t) => {
  const available = await run('systemd-analyze', ['--version']).then(
    () => true,
    () => false,
  );
  if (!available) {
    t.fail('systemd-analyze is not installed: install the Debian package systemd (.ci/run does)');
    return;
  }
  const { rootfs } = await filesOf('pi0');
  const projectDir = await makeProject(t, { 'bin/lab-router-setup': '#!/bin/sh\n' });
  const program = path.join(projectDir, 'bin/lab-router-setup');
  await run('chmod', ['755', program]);
  // verify checks that ExecStart exists on this machine: point it at a stand-in.
  const unit = file(rootfs, '/etc/systemd/system/lab-router-setup.service')
    .content.toString('utf8')
    .replace('ExecStart=/usr/local/sbin/lab-router-setup', `ExecStart=${program}`);
  const unitFile = path.join(projectDir, 'lab-router-setup.service');
  await writeFile(unitFile, unit);
  const { stderr } = await run('systemd-analyze', ['verify', unitFile]);
  t.is(stderr, '');
});

function recipeWith(overlays: readonly string[]): Recipe {
  return { name: 'test', file: '/dev/null', description: 'test', overlays, configTxt: [], digest: '' };
}

test('a later overlay replaces an earlier one at the same path, file or symlink', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/base/rootfs/etc/motd': 'base\n',
    'overlays/base/rootfs/etc/issue': 'base\n',
    'overlays/base/boot/lab.txt': 'base\n',
    'overlays/top/rootfs/etc/motd.mustache': 'top {{host.name}}\n',
    'overlays/top/overlay.yaml': 'symlinks:\n  /etc/issue: /etc/motd\n',
    'overlays/top/boot/lab.txt': 'top\n',
  });
  const lab = await sampleLab();
  const overlays = await Promise.all(['top', 'base'].map((name) => loadOverlay(name, { projectDir })));
  const files = renderHostFiles(lab, hostNamed(lab, 'pi2'), recipeWith(['base', 'top']), overlays);
  t.deepEqual(
    files.rootfs.map((spec) => [spec.path, spec.content.toString('utf8')]),
    [['/etc/motd', 'top pi2\n']],
  );
  t.deepEqual(
    files.boot.map((spec) => [spec.path, spec.content.toString('utf8')]),
    [['/lab.txt', 'top\n']],
  );
  t.deepEqual(files.symlinks, [{ target: 'rootfs', path: '/etc/issue', linkTo: '/etc/motd' }]);
});

test('a template naming a value the host lacks fails, naming file and variable', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/hosts/rootfs/etc/hosts.mustache': '127.0.1.1 {{host.name}}\n{{host.ip}} {{host.name}}\n',
    'overlays/hosts/rootfs/etc/motd.mustache': '{{network.gateway}}\n',
  });
  const lab = await sampleLab();
  const overlay = await loadOverlay('hosts', { projectDir });
  const error = t.throws(
    () => renderHostFiles(lab, hostNamed(lab, 'pi0'), recipeWith(['hosts']), [overlay]),
    {
      instanceOf: UserError,
    },
  );
  const hosts = path.join(projectDir, 'overlays/hosts/rootfs/etc/hosts.mustache');
  const motd = path.join(projectDir, 'overlays/hosts/rootfs/etc/motd.mustache');
  t.is(error.message, 'cannot render the files of host pi0 (recipe test):');
  t.deepEqual(error.details, [
    `${hosts}:2: {{host.ip}} is not in the view — known here: host.name`,
    `${motd}:1: {{network.gateway}} is not in the view — known here: network.subnet, network.address, network.prefix, network.netmask, network.router, network.lan, network.uplink, network.dhcp`,
  ]);
});

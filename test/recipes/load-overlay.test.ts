import { cp, chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { loadOverlay } from '../../src/recipes/load-overlay.ts';
import { makeProject, PROJECT_DIR } from './project-fixture.ts';

test('the router overlay loads with its attributes and symlink', async (t) => {
  const overlay = await loadOverlay('router', { projectDir: PROJECT_DIR });
  const dir = path.join(PROJECT_DIR, 'overlays/router');
  t.is(overlay.dir, dir);
  t.deepEqual(
    overlay.entries.map((entry) => [
      entry.target,
      entry.path,
      entry.template,
      entry.mode.toString(8),
      entry.uid,
      entry.gid,
    ]),
    [
      ['rootfs', '/etc/NetworkManager/system-connections/lab-lan.nmconnection', true, '600', 0, 0],
      ['rootfs', '/etc/dnsmasq.d/lab.conf', true, '644', 0, 0],
      ['rootfs', '/etc/iptables/rules.v4', true, '644', 0, 0],
      ['rootfs', '/etc/sysctl.d/90-lab-forwarding.conf', false, '644', 0, 0],
      ['rootfs', '/etc/systemd/system/dnsmasq.service.d/10-after-network-online.conf', false, '644', 0, 0],
      ['rootfs', '/etc/systemd/system/lab-router-setup.service', false, '644', 0, 0],
      ['rootfs', '/usr/local/sbin/lab-router-setup', false, '755', 0, 0],
    ],
  );
  const dnsmasq = overlay.entries.find((entry) => entry.path === '/etc/dnsmasq.d/lab.conf');
  t.is(dnsmasq?.source, path.join(dir, 'rootfs/etc/dnsmasq.d/lab.conf.mustache'));
  t.is(dnsmasq?.text, dnsmasq?.bytes.toString('utf8'));
  t.deepEqual(overlay.symlinks, [
    {
      target: 'rootfs',
      path: '/etc/systemd/system/multi-user.target.wants/lab-router-setup.service',
      linkTo: '/etc/systemd/system/lab-router-setup.service',
    },
  ]);
});

test('the digest is stable across loads and checkouts, and follows content and attributes', async (t) => {
  const first = await loadOverlay('router', { projectDir: PROJECT_DIR });
  const again = await loadOverlay('router', { projectDir: PROJECT_DIR });
  t.regex(first.digest, /^[0-9a-f]{64}$/);
  t.is(again.digest, first.digest);

  const copy = await mkdtemp(path.join(tmpdir(), 'overlay-copy-'));
  t.teardown(() => rm(copy, { recursive: true, force: true }));
  await cp(path.join(PROJECT_DIR, 'overlays/router'), path.join(copy, 'overlays/router'), {
    recursive: true,
  });
  t.is((await loadOverlay('router', { projectDir: copy })).digest, first.digest);

  const attributes = path.join(copy, 'overlays/router/overlay.yaml');
  await writeFile(attributes, "rootfs:\n  /usr/local/sbin/lab-router-setup: { mode: '0700' }\n");
  const modeChanged = (await loadOverlay('router', { projectDir: copy })).digest;
  t.not(modeChanged, first.digest);

  await writeFile(
    path.join(copy, 'overlays/router/rootfs/etc/sysctl.d/90-lab-forwarding.conf'),
    'net.ipv4.ip_forward=0\n',
  );
  t.not((await loadOverlay('router', { projectDir: copy })).digest, modeChanged);
});

test('defaults are mode 0644 owned by root; boot files are entries too', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/extra/boot/lab/README.txt': 'lab\n',
    'overlays/extra/rootfs/home/pi/.hushlogin': '',
    'overlays/extra/overlay.yaml': 'rootfs:\n  /home/pi/.hushlogin: { uid: 1000, gid: 1000 }\n',
  });
  const overlay = await loadOverlay('extra', { projectDir });
  t.deepEqual(
    overlay.entries.map((entry) => [entry.target, entry.path, entry.mode, entry.uid, entry.gid]),
    [
      ['boot', '/lab/README.txt', 0o644, 0, 0],
      ['rootfs', '/home/pi/.hushlogin', 0o644, 1000, 1000],
    ],
  );
});

test('an overlay.yaml naming a missing file fails, suggesting the likely one', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/extra/rootfs/usr/local/sbin/lab-setup': '#!/bin/sh\n',
    'overlays/extra/overlay.yaml':
      "rootfs:\n  /usr/local/sbin/lab-setpu: { mode: '0755' }\n  /etc/absent.conf: { mode: '0600' }\n",
  });
  const error = await t.throwsAsync(loadOverlay('extra', { projectDir }), { instanceOf: UserError });
  t.is(error.message, 'overlays/extra is not a valid overlay (2 problems):');
  t.deepEqual(error.details, [
    'overlays/extra/overlay.yaml: rootfs["/usr/local/sbin/lab-setpu"]: names a file that does not exist: rootfs/usr/local/sbin/lab-setpu (or rootfs/usr/local/sbin/lab-setpu.mustache) — did you mean /usr/local/sbin/lab-setup?',
    'overlays/extra/overlay.yaml: rootfs["/etc/absent.conf"]: names a file that does not exist: rootfs/etc/absent.conf (or rootfs/etc/absent.conf.mustache) — attributes name target paths, without .mustache',
  ]);
});

test('every overlay problem is reported at once', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/extra/etc/motd': 'misplaced\n',
    'overlays/extra/boot/config.txt': 'arm_64bit=1\n',
    'overlays/extra/rootfs/etc/a.conf': 'a\n',
    'overlays/extra/rootfs/etc/a.conf.mustache': '{{a}}\n',
    'overlays/extra/rootfs/etc/b.conf.mustache': 'line\n{{#b}}\n',
    'overlays/extra/overlay.yaml': [
      'rootfs:',
      '  /etc/a.conf: { mode: 0600 }',
      '  etc/b.conf: { owner: 0 }',
      'symlinks:',
      '  /etc/a.conf: /etc/b.conf',
      '',
    ].join('\n'),
  });
  await symlink('/etc/hostname', path.join(projectDir, 'overlays/extra/rootfs/etc/link'));
  const error = await t.throwsAsync(loadOverlay('extra', { projectDir }), { instanceOf: UserError });
  t.deepEqual(error.details, [
    'overlays/extra/etc: is not part of an overlay — put files under boot/ (the boot partition) or rootfs/ (the root file system), attributes in overlay.yaml',
    'overlays/extra/rootfs/etc/link: is a symlink — declare symlinks under "symlinks:" in overlay.yaml',
    'overlays/extra/overlay.yaml: rootfs["/etc/a.conf"].mode: must be a quoted octal string (YAML reads an unquoted 0600 as the number 600) (got 600) — write e.g. mode: "0644", or "0755" for programs',
    'overlays/extra/overlay.yaml: rootfs["etc/b.conf"].owner: unknown key — remove it or check its spelling (known keys: mode, uid, gid)',
    "overlays/extra/boot/config.txt: would replace a boot file the bake edits — put config.txt lines in the recipe's config_txt; cmdline.txt is not overlaid",
    'overlays/extra/rootfs/etc/b.conf.mustache: line 3: template syntax error: Unclosed section "b" — close every {{tag}} and {{#section}}',
    'overlays/extra/rootfs/etc/a.conf: exists both as a file and as /etc/a.conf.mustache — keep one of them',
  ]);
});

test('attribute and symlink paths are checked once overlay.yaml itself is valid', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/extra/rootfs/etc/a.conf': 'a\n',
    'overlays/extra/overlay.yaml': [
      'rootfs:',
      "  etc/a.conf: { mode: '0600' }",
      'symlinks:',
      '  /etc/a.conf: /etc/b.conf',
      '  /etc/../etc/c.conf: /etc/b.conf',
      '',
    ].join('\n'),
  });
  const error = await t.throwsAsync(loadOverlay('extra', { projectDir }), { instanceOf: UserError });
  t.deepEqual(error.details, [
    'overlays/extra/overlay.yaml: rootfs["etc/a.conf"]: is not an absolute, normalised path (got "etc/a.conf") — write it like /etc/example.conf',
    'overlays/extra/overlay.yaml: symlinks["/etc/a.conf"]: is also a file in rootfs/ — keep either the file or the symlink',
    'overlays/extra/overlay.yaml: symlinks["/etc/../etc/c.conf"]: is not an absolute, normalised path (got "/etc/../etc/c.conf") — write it like /etc/example.conf',
  ]);
});

test('a missing overlay names the directory and the overlays there are', async (t) => {
  const error = await t.throwsAsync(loadOverlay('routr', { projectDir: PROJECT_DIR }), {
    instanceOf: UserError,
  });
  t.is(error.message, 'overlay overlays/routr does not exist');
  t.deepEqual(error.details, [
    `${path.join(PROJECT_DIR, 'overlays/routr')}: create it, or use an existing overlay (common, router)`,
  ]);
});

test('source file permissions do not leak into the image', async (t) => {
  const projectDir = await makeProject(t, { 'overlays/extra/rootfs/usr/local/bin/tool': '#!/bin/sh\n' });
  await chmod(path.join(projectDir, 'overlays/extra/rootfs/usr/local/bin/tool'), 0o777);
  const overlay = await loadOverlay('extra', { projectDir });
  t.is(overlay.entries[0]?.mode, 0o644);
});

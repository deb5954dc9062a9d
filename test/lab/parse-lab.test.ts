import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { loadLab, parseLab } from '../../src/lab/load-lab.ts';
import {
  editedSample,
  hostAt,
  FAKE_PROJECT,
  parseText,
  PROJECT_DIR,
  problemsOf,
  SAMPLE_LAB_FILE,
  SAMPLE_LAB_TEXT,
} from './lab-fixture.ts';

test('the sample lab loads and resolves', async (t) => {
  const lab = await loadLab(SAMPLE_LAB_FILE, { projectDir: PROJECT_DIR });
  t.is(lab.file, SAMPLE_LAB_FILE);
  t.deepEqual(lab.network, {
    subnet: { cidr: '192.168.87.0/24', address: '192.168.87.0', prefix: 24, netmask: '255.255.255.0' },
    router: '192.168.87.1',
    dhcp: { start: '192.168.87.11', end: '192.168.87.99', lease: '24h' },
    lan: 'eth0',
    uplink: 'wlan0',
  });
  t.deepEqual(lab.image, { clean: path.join(PROJECT_DIR, 'images/pi-img'), placeholder: 'changeme' });
  t.deepEqual(lab.hosts, [
    { name: 'pi0', recipe: 'router', index: 0 },
    { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '192.168.87.101', index: 1 },
    { name: 'pi2', recipe: 'node', mac: 'd8:3a:dd:f7:77:d8', ip: '192.168.87.102', index: 2 },
    { name: 'pi3', recipe: 'node', mac: 'd8:3a:dd:e9:d4:3e', ip: '192.168.87.103', index: 3 },
    { name: 'data1', mac: '1c:69:7a:a2:6f:89', ip: '192.168.87.2', index: 4 },
  ]);
});

test('adding a host is one line', (t) => {
  const line = "  - { name: pi4, recipe: node, mac: 'd8:3a:dd:00:00:04', ip: 192.168.87.104 }\n";
  const lab = parseText(SAMPLE_LAB_TEXT + line);
  t.deepEqual(lab.hosts.at(-1), {
    name: 'pi4',
    recipe: 'node',
    mac: 'd8:3a:dd:00:00:04',
    ip: '192.168.87.104',
    index: 5,
  });
});

test('placeholder defaults to changeme; MACs are lowercased; a numeric lease is seconds', (t) => {
  const lab = parseText(
    editedSample((lab) => {
      delete lab.image.placeholder;
      hostAt(lab, 1).mac = 'D8:3A:DD:F7:78:E0';
      lab.network.dhcp.lease = 3600;
    }),
  );
  t.is(lab.image.placeholder, 'changeme');
  t.is(lab.hosts[1]?.mac, 'd8:3a:dd:f7:78:e0');
  t.is(lab.network.dhcp.lease, '3600');
});

test('a relative clean image path resolves against the project directory, an absolute one stays', (t) => {
  t.is(parseText(SAMPLE_LAB_TEXT).image.clean, `${FAKE_PROJECT}/images/pi-img`);
  const lab = parseText(editedSample((lab) => (lab.image.clean = '/srv/os_images/pi-img')));
  t.is(lab.image.clean, '/srv/os_images/pi-img');
});

test('every problem is reported at once, with file, path and value', (t) => {
  const text = editedSample((lab) => {
    lab.network.subnet = '192.168.87.5/24';
    lab.network.dhcp.lease = '24 hours';
    hostAt(lab, 0).name = 'Pi0';
    hostAt(lab, 1).mac = 'd8-3a-dd-f7-78-e0';
    hostAt(lab, 2).ip = '192.168.87.300';
  });
  const error = t.throws(() => parseText(text), { instanceOf: UserError });
  t.is(error.message, 'recipes/lab.yaml is not a valid lab file (5 problems):');
  t.deepEqual(
    error.details.map((detail) => detail.split(' — ')[0]),
    [
      'recipes/lab.yaml: network.subnet: has host bits set in its address (got "192.168.87.5/24")',
      'recipes/lab.yaml: network.dhcp.lease: is not a dnsmasq lease time (got "24 hours")',
      'recipes/lab.yaml: hosts[0].name: is not a valid hostname (an RFC 1123 label): hostnames are lowercase (got "Pi0")',
      'recipes/lab.yaml: hosts[1].mac: separates the MAC address bytes with "-" (got "d8-3a-dd-f7-78-e0")',
      'recipes/lab.yaml: hosts[2].ip: is not an IPv4 address (got "192.168.87.300")',
    ],
  );
});

test('every cross-field problem is reported at once', (t) => {
  const details = problemsOf(
    t,
    editedSample((lab) => {
      hostAt(lab, 2).name = 'pi1';
      hostAt(lab, 3).ip = '192.168.87.50';
      lab.network.uplink = 'eth0';
    }),
  );
  t.is(details.length, 3);
  t.regex(details[0] ?? '', /hosts\[2\]\.name: repeats the name of hosts\[1\] \(got "pi1"\)/);
  t.regex(details[1] ?? '', /hosts\[3\]\.ip: is inside the DHCP range/);
  t.regex(details[2] ?? '', /network\.uplink: is the same interface as network\.lan \(got "eth0"\)/);
});

test('field problems do not hide cross-field ones: the rules run over the well-formed hosts', (t) => {
  const error = t.throws(
    () =>
      parseText(
        editedSample((lab) => {
          hostAt(lab, 0).name = 'Pi0';
          hostAt(lab, 1).name = 'node_1';
          hostAt(lab, 3).name = 'node_1';
          hostAt(lab, 2).ip = '192.168.86.102';
        }),
      ),
    { instanceOf: UserError },
  );
  t.is(error.message, 'recipes/lab.yaml is not a valid lab file (4 problems):');
  // hosts[1] and hosts[3] repeat a name, but an invalid one: that is not reported twice over.
  t.deepEqual(error.details, [
    'recipes/lab.yaml: hosts[0].name: is not a valid hostname (an RFC 1123 label): hostnames are lowercase (got "Pi0") — write "pi0"',
    'recipes/lab.yaml: hosts[1].name: is not a valid hostname (an RFC 1123 label): 1-63 characters a-z, 0-9 and "-", not starting or ending with "-" (got "node_1") — write e.g. "node-1"',
    'recipes/lab.yaml: hosts[3].name: is not a valid hostname (an RFC 1123 label): 1-63 characters a-z, 0-9 and "-", not starting or ending with "-" (got "node_1") — write e.g. "node-1"',
    'recipes/lab.yaml: hosts[2].ip: is outside the subnet 192.168.87.0/24 (got "192.168.86.102") — use an address from 192.168.87.1 to 192.168.87.254',
  ]);
});

test('a network section with a field error is left out of the cross-field rules, the hosts are not', (t) => {
  const details = problemsOf(
    t,
    editedSample((lab) => {
      lab.network.subnet = '192.168.87.0';
      hostAt(lab, 2).ip = '10.0.0.2';
      hostAt(lab, 3).name = 'pi1';
      delete hostAt(lab, 4).ip;
    }),
  );
  t.deepEqual(details, [
    'recipes/lab.yaml: network.subnet: is not a subnet in CIDR notation (got "192.168.87.0") — write address/prefix, e.g. "192.168.87.0/24"',
    'recipes/lab.yaml: hosts[3].name: repeats the name of hosts[1] (got "pi1") — give every host its own name',
    'recipes/lab.yaml: hosts[4].mac: has no ip to reserve for it, so no DHCP reservation is made (got "1c:69:7a:a2:6f:89") — add ip: (an address in network.subnet, outside network.dhcp), or remove the host',
  ]);
});

test('an unknown key is reported with the key it probably meant', (t) => {
  const details = problemsOf(
    t,
    editedSample((lab) => {
      hostAt(lab, 1).recipie = hostAt(lab, 1).recipe;
      lab.image.placholder = 'changeme';
    }),
  );
  t.deepEqual(details, [
    'recipes/lab.yaml: image.placholder: unknown key — did you mean "placeholder"? (known keys: clean, placeholder)',
    'recipes/lab.yaml: hosts[1].recipie: unknown key — did you mean "recipe"? (known keys: name, recipe, mac, ip, ssh, imager, wake_on_lan)',
  ]);
});

test('a missing key and a value of the wrong type are reported', (t) => {
  const details = problemsOf(
    t,
    editedSample((lab) => {
      delete lab.network.lan;
      hostAt(lab, 4).name = 5;
      (lab.hosts as unknown[]).push('pi9');
    }),
  );
  t.deepEqual(details, [
    'recipes/lab.yaml: network.lan: is missing — add "lan:" with a string',
    'recipes/lab.yaml: hosts[4].name: must be a string (got 5) — quote it: "5"',
    'recipes/lab.yaml: hosts[5]: must be a mapping (key: value lines) (got "pi9")',
  ]);
});

test('an empty file is reported as such', (t) => {
  t.deepEqual(problemsOf(t, ''), [
    'recipes/lab.yaml: the file is empty — write a mapping (key: value lines)',
  ]);
});

test('a YAML syntax error names line and column', (t) => {
  const text = SAMPLE_LAB_TEXT.replace('- { name: pi0, recipe: router }', '- { name: pi0, recipe: router');
  const details = problemsOf(t, text);
  t.is(details.length, 1);
  t.regex(
    details[0] ?? '',
    /^recipes\/lab\.yaml: line \d+, column \d+: YAML syntax error: .+ — fix the YAML syntax/,
  );
});

test('a duplicate key is a YAML error', (t) => {
  const details = problemsOf(t, SAMPLE_LAB_TEXT.replace('  lan: eth0', '  lan: eth0\n  lan: eth1'));
  t.regex(
    details[0] ?? '',
    /^recipes\/lab\.yaml: line 8, column 3: YAML syntax error: Map keys must be unique/,
  );
});

test('a missing lab file says which file and that --lab chooses another', async (t) => {
  const missing = path.join(PROJECT_DIR, 'recipes/no-such-lab.yaml');
  const error = await t.throwsAsync(loadLab(missing, { projectDir: PROJECT_DIR }), { instanceOf: UserError });
  t.is(error.message, 'lab file recipes/no-such-lab.yaml does not exist');
  t.deepEqual(error.details, [`${missing}: pass --lab <file> to use another lab file`]);
});

test('loadLab checks recipes against the files in the project', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'lab-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'recipes'));
  await writeFile(path.join(dir, 'recipes/node.yaml'), 'description: x\n');
  await writeFile(path.join(dir, 'lab.yaml'), SAMPLE_LAB_TEXT);
  const error = await t.throwsAsync(loadLab(path.join(dir, 'lab.yaml'), { projectDir: dir }), {
    instanceOf: UserError,
  });
  t.is(error.message, 'lab.yaml is not a valid lab file (1 problem):');
  t.deepEqual(error.details, [
    'lab.yaml: hosts[0].recipe: has no recipe file recipes/router.yaml (got "router") — create recipes/router.yaml, or name an existing recipe',
  ]);
});

test('parseLab outside the project shows the absolute path', (t) => {
  const error = t.throws(() => parseLab('', '/elsewhere/lab.yaml', { projectDir: FAKE_PROJECT }), {
    instanceOf: UserError,
  });
  t.is(error.message, '/elsewhere/lab.yaml is not a valid lab file (1 problem):');
});

import test from 'ava';
import { defaultImagerName } from '../../src/lab/default-imager-name.ts';
import { labRules } from '../../src/lab/lab-rules.ts';
import { editedSample, hostAt, parseText, problemsOf, type LabData } from './lab-fixture.ts';

/** Asserts that the edit yields exactly these problems (full detail lines: file, path, message, value, fix). */
function rejects(title: string, edit: (lab: LabData) => void, expected: readonly string[]): void {
  test(title, (t) => {
    t.deepEqual(problemsOf(t, editedSample(edit)), expected);
  });
}

const F = 'recipes/lab.yaml';

// Value checks (run by the schema).

rejects('checkHostname: uppercase gets a hint to lowercase', (lab) => (hostAt(lab, 1).name = 'Pi1'), [
  `${F}: hosts[1].name: is not a valid hostname (an RFC 1123 label): hostnames are lowercase (got "Pi1") — write "pi1"`,
]);
rejects(
  'checkHostname: characters outside a-z0-9- and a leading hyphen',
  (lab) => {
    hostAt(lab, 1).name = 'pi_1';
    hostAt(lab, 2).name = '-pi2';
  },
  [
    `${F}: hosts[1].name: is not a valid hostname (an RFC 1123 label): 1-63 characters a-z, 0-9 and "-", not starting or ending with "-" (got "pi_1") — write e.g. "pi-1"`,
    `${F}: hosts[2].name: is not a valid hostname (an RFC 1123 label): 1-63 characters a-z, 0-9 and "-", not starting or ending with "-" (got "-pi2") — write e.g. "pi2"`,
  ],
);
rejects('checkHostname: longer than 63 characters', (lab) => (hostAt(lab, 1).name = 'p'.repeat(64)), [
  `${F}: hosts[1].name: is not a valid hostname (an RFC 1123 label): longer than 63 characters (got "${'p'.repeat(64)}") — shorten it`,
]);
rejects('checkHostname: the placeholder is a hostname too', (lab) => (lab.image.placeholder = 'change me'), [
  `${F}: image.placeholder: is not a valid hostname (an RFC 1123 label): 1-63 characters a-z, 0-9 and "-", not starting or ending with "-" (got "change me") — write e.g. "change-me"`,
]);
rejects(
  'checkMac: dashes are refused with the colon form as the fix',
  (lab) => (hostAt(lab, 1).mac = 'D8-3A-DD-F7-78-E0'),
  [
    `${F}: hosts[1].mac: separates the MAC address bytes with "-" (got "D8-3A-DD-F7-78-E0") — use ":" instead: "D8:3A:DD:F7:78:E0"`,
  ],
);
rejects('checkMac: not six hex pairs', (lab) => (hostAt(lab, 1).mac = 'd8:3a:dd:f7:78'), [
  `${F}: hosts[1].mac: is not a MAC address (got "d8:3a:dd:f7:78") — write six hex pairs separated by ":", e.g. "d8:3a:dd:f7:78:e0" (\`ip link\` shows it)`,
]);
rejects(
  'checkIpv4: an octet over 255 and a leading zero',
  (lab) => {
    lab.network.router = '192.168.87.256';
    hostAt(lab, 4).ip = '192.168.87.02';
  },
  [
    `${F}: network.router: is not an IPv4 address (got "192.168.87.256") — write four numbers 0-255 separated by dots, without leading zeros, e.g. "192.168.87.2"`,
    `${F}: hosts[4].ip: is not an IPv4 address (got "192.168.87.02") — write four numbers 0-255 separated by dots, without leading zeros, e.g. "192.168.87.2"`,
  ],
);
rejects('checkCidr: host bits set', (lab) => (lab.network.subnet = '192.168.87.1/24'), [
  `${F}: network.subnet: has host bits set in its address (got "192.168.87.1/24") — write the subnet's own address: "192.168.87.0/24"`,
]);
rejects('checkCidr: not CIDR notation', (lab) => (lab.network.subnet = '192.168.87.0'), [
  `${F}: network.subnet: is not a subnet in CIDR notation (got "192.168.87.0") — write address/prefix, e.g. "192.168.87.0/24"`,
]);
rejects('checkCidr: too small for a router and hosts', (lab) => (lab.network.subnet = '192.168.87.0/31'), [
  `${F}: network.subnet: is too small for a router and hosts (got "192.168.87.0/31") — use a prefix of /29 or shorter, e.g. /24`,
]);
rejects('checkLeaseTime: not a dnsmasq lease time', (lab) => (lab.network.dhcp.lease = '1 day'), [
  `${F}: network.dhcp.lease: is not a dnsmasq lease time (got "1 day") — write a number with an optional unit s, m, h, d or w (e.g. "24h"), or "infinite"`,
]);
rejects(
  'checkInterfaceName: a colon and more than 15 characters',
  (lab) => {
    lab.network.lan = 'eth0:1';
    lab.network.uplink = 'wlan0-home-network';
  },
  [
    `${F}: network.lan: is not a Linux interface name (1-15 characters, no "/", ":" or spaces) (got "eth0:1") — use the name \`ip link\` shows on the router, e.g. "eth0" or "wlan0"`,
    `${F}: network.uplink: is not a Linux interface name (1-15 characters, no "/", ":" or spaces) (got "wlan0-home-network") — use the name \`ip link\` shows on the router, e.g. "eth0" or "wlan0"`,
  ],
);
rejects('checkKebabName: recipe names are kebab-case', (lab) => (hostAt(lab, 1).recipe = 'Build_Node'), [
  `${F}: hosts[1].recipe: is not a kebab-case name (lowercase words joined by "-") (got "Build_Node") — write e.g. "build-node"`,
]);
rejects('checkNotEmpty: the clean image path', (lab) => (lab.image.clean = ' '), [
  `${F}: image.clean: is empty (got " ") — write a value`,
]);

// Cross-field rules.

rejects('hostNamesAreUnique', (lab) => (hostAt(lab, 3).name = 'pi1'), [
  `${F}: hosts[3].name: repeats the name of hosts[1] (got "pi1") — give every host its own name`,
]);
rejects('macsAreUnique: case-insensitive', (lab) => (hostAt(lab, 2).mac = 'D8:3A:DD:F7:78:E0'), [
  `${F}: hosts[2].mac: is also the MAC of hosts[1] (pi1) (got "d8:3a:dd:f7:78:e0") — each reservation needs the MAC of its own machine (\`ip link\` shows it)`,
]);
rejects('ipsAreUnique', (lab) => (hostAt(lab, 4).ip = '192.168.87.101'), [
  `${F}: hosts[4].ip: is also the address of hosts[1] (pi1) (got "192.168.87.101") — give every host its own address`,
]);
rejects('routerAddressIsTheRouters', (lab) => (hostAt(lab, 4).ip = '192.168.87.1'), [
  `${F}: hosts[4].ip: is the router's address (network.router) but the host's recipe is not "router" (got "192.168.87.1") — give this host another address`,
]);
test('routerAddressIsTheRouters: the router host may reserve its own address', (t) => {
  t.notThrows(() =>
    parseText(
      editedSample((lab) => {
        hostAt(lab, 0).mac = 'd8:3a:dd:00:00:01';
        hostAt(lab, 0).ip = '192.168.87.1';
      }),
    ),
  );
});
rejects(
  'addressesAreInSubnet: router, DHCP range and hosts',
  (lab) => {
    lab.network.router = '192.168.86.1';
    lab.network.dhcp.start = '192.168.87.0';
    hostAt(lab, 4).ip = '192.168.87.255';
  },
  [
    `${F}: network.router: is outside the subnet 192.168.87.0/24 (got "192.168.86.1") — use an address from 192.168.87.1 to 192.168.87.254`,
    `${F}: network.dhcp.start: is the address of the subnet 192.168.87.0/24 itself (got "192.168.87.0") — use an address from 192.168.87.1 to 192.168.87.254`,
    `${F}: hosts[4].ip: is the broadcast address of the subnet 192.168.87.0/24 (got "192.168.87.255") — use an address from 192.168.87.1 to 192.168.87.254`,
  ],
);
rejects(
  'dhcpRangeIsOrdered',
  (lab) => {
    lab.network.dhcp.start = '192.168.87.99';
    lab.network.dhcp.end = '192.168.87.11';
  },
  [
    `${F}: network.dhcp.start: comes after network.dhcp.end (192.168.87.11) (got "192.168.87.99") — swap start and end`,
  ],
);
rejects(
  'reservationsAreOutsideDhcpRange: the router and host reservations',
  (lab) => {
    lab.network.router = '192.168.87.11';
    hostAt(lab, 4).ip = '192.168.87.99';
  },
  [
    `${F}: network.router: is inside the DHCP range 192.168.87.11-192.168.87.99, so dnsmasq could lease it to another machine (got "192.168.87.11") — use an address outside the range, or shrink network.dhcp`,
    `${F}: hosts[4].ip: is inside the DHCP range 192.168.87.11-192.168.87.99, so dnsmasq could lease it to another machine (got "192.168.87.99") — use an address outside the range, or shrink network.dhcp`,
  ],
);
rejects('interfacesDiffer', (lab) => (lab.network.uplink = 'eth0'), [
  `${F}: network.uplink: is the same interface as network.lan (got "eth0") — the router needs one interface to the lab (lan) and another to the home network (uplink)`,
]);
rejects('recipesExist: a recipe file is missing', (lab) => (hostAt(lab, 2).recipe = 'nodes'), [
  `${F}: hosts[2].recipe: has no recipe file recipes/nodes.yaml (got "nodes") — create recipes/nodes.yaml, or name an existing recipe`,
]);
rejects('recipesExist: the lab file is not a recipe', (lab) => (hostAt(lab, 2).recipe = 'lab'), [
  `${F}: hosts[2].recipe: names the lab file (recipes/lab.yaml), not a recipe (got "lab") — name a recipe`,
]);
rejects('reservedIpsHaveMacs', (lab) => delete hostAt(lab, 4).mac, [
  `${F}: hosts[4].ip: has no mac to reserve it for (dnsmasq reserves addresses by MAC) (got "192.168.87.2") — add mac: "xx:xx:xx:xx:xx:xx" (the host's Ethernet MAC, \`ip link\` shows it)`,
]);
rejects(
  'reservedMacsHaveIps: a mac without an ip, with a free address outside the DHCP range as the fix',
  (lab) => {
    delete hostAt(lab, 1).ip;
    lab.hosts.push({ name: 'spare', mac: 'd8:3a:dd:00:00:09' });
  },
  [
    `${F}: hosts[1].mac: has no ip to reserve for it, so no DHCP reservation is made (got "d8:3a:dd:f7:78:e0") — add ip: 192.168.87.3, or remove the mac`,
    `${F}: hosts[5].mac: has no ip to reserve for it, so no DHCP reservation is made (got "d8:3a:dd:00:00:09") — add ip: 192.168.87.4, or remove the host`,
  ],
);
rejects('hostsHaveAPurpose', (lab) => lab.hosts.push({ name: 'spare' }), [
  `${F}: hosts[5]: has neither a recipe (an image to bake) nor an address reservation (mac and ip) (got "spare") — add recipe:, or mac: and ip:, or remove the host`,
]);

rejects('imagerDisksDiffer', (lab) => (hostAt(lab, 1).imager = { disk: 'mmcblk0', sd_disk: 'mmcblk0' }), [
  `${F}: hosts[1].imager.disk: is the disk the imager runs from (imager.sd_disk) (got "mmcblk0") — name the USB disk the host boots from, e.g. "sda"`,
]);
rejects(
  'imagerNamesAreUnique',
  (lab) => {
    hostAt(lab, 1).imager = { name: 'imager1' };
    hostAt(lab, 2).imager = { name: 'imager1' };
  },
  [
    `${F}: hosts[2].imager.name: is also the imager of hosts[1] (pi1) (got "imager1") — every host has its own SD-card imager`,
  ],
);

rejects(
  "hostNamesAreNotImagerNames: another host's imager.name",
  (lab) => (hostAt(lab, 2).imager = { name: 'data1' }),
  [
    `${F}: hosts[4].name: is also the imager name of hosts[2] (pi2), so deploy could take the one for the other (got "data1") — rename the host or the imager`,
  ],
);
rejects(
  "hostNamesAreNotImagerNames: the host's own imager.name",
  (lab) => (hostAt(lab, 1).imager = { name: 'pi1' }),
  [
    `${F}: hosts[1].name: is also its own imager name (imager.name), so deploy could take the one for the other (got "pi1") — rename the host or the imager`,
  ],
);
rejects(
  "hostNamesAreNotImagerNames: another host's default imager name",
  (lab) => (hostAt(lab, 4).name = 'imager1'),
  [
    `${F}: hosts[4].name: is also the default imager name of hosts[1] (pi1 → imager1), so deploy could take the one for the other (got "imager1") — rename the host, or set hosts[1].imager.name`,
  ],
);
rejects(
  'hostNamesAreNotImagerNames: the default imager name of a name without a number',
  (lab) => {
    hostAt(lab, 0).name = 'gateway';
    lab.hosts.push({ name: 'gateway-imager', mac: 'd8:3a:dd:00:00:09', ip: '192.168.87.3' });
  },
  [
    `${F}: hosts[5].name: is also the default imager name of hosts[0] (gateway → gateway-imager), so deploy could take the one for the other (got "gateway-imager") — rename the host, or set hosts[0].imager.name`,
  ],
);
rejects(
  "hostNamesAreNotImagerNames: the host's own default imager name",
  (lab) => (hostAt(lab, 3).name = 'imager3'),
  [
    `${F}: hosts[3].name: is also its own default imager name (a host named <letters><N> has imager<N>), so deploy could take the one for the other (got "imager3") — rename the host, or set its imager.name`,
  ],
);
test('hostNamesAreNotImagerNames: an imager.name frees the default, and a host without a recipe has no imager', (t) => {
  t.notThrows(() =>
    parseText(
      editedSample((lab) => {
        hostAt(lab, 1).imager = { name: 'sd1' };
        hostAt(lab, 4).name = 'imager1';
      }),
    ),
  );
  t.notThrows(() =>
    parseText(
      editedSample((lab) => {
        hostAt(lab, 4).name = 'data7';
        lab.hosts.push({ name: 'imager7', mac: 'd8:3a:dd:00:00:09', ip: '192.168.87.3' });
      }),
    ),
  );
});
test('default imager names: pi1 → imager1; a name without a number gets -imager', (t) => {
  t.deepEqual(['pi1', 'pi12', 'node3', 'router', 'gateway-1'].map(defaultImagerName), [
    'imager1',
    'imager12',
    'imager3',
    'router-imager',
    'gateway-1-imager',
  ]);
});

test('the cross-field rules are named and listed', (t) => {
  t.deepEqual(
    labRules.map((rule) => rule.name),
    [
      'hostNamesAreUnique',
      'macsAreUnique',
      'ipsAreUnique',
      'routerAddressIsTheRouters',
      'addressesAreInSubnet',
      'dhcpRangeIsOrdered',
      'reservationsAreOutsideDhcpRange',
      'interfacesDiffer',
      'recipesExist',
      'reservedIpsHaveMacs',
      'reservedMacsHaveIps',
      'imagerDisksDiffer',
      'imagerNamesAreUnique',
      'hostNamesAreNotImagerNames',
      'hostsHaveAPurpose',
      'plugNamesAreUnique',
      'plugsFeedLabHosts',
      'hostsHaveOnePlug',
      'wakeOnLanHostsHaveMacs',
    ],
  );
});

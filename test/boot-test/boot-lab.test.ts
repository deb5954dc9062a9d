import test from 'ava';
import type { BootTestResult } from '../../src/boot-test/run-boot-test.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, runBootTestCli } from '../helpers/bootable-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

// The router and one node on a virtual switch: real dnsmasq, NetworkManager and the router's
// first-boot installer (from the sample's local archive), under software emulation.

const ROUTER_CHECKS = [
  'reaches multi-user with no failed units',
  'hostname is pi0',
  'sshd -T: key-only login',
  'a password login is refused',
  'eth0 has the router address 10.87.0.1/24',
  'the first-boot installer installed dnsmasq and iptables-persistent, then disabled itself',
  'dnsmasq runs with the rendered configuration',
  'IPv4 forwarding is on',
  'netfilter-persistent loaded /etc/iptables/rules.v4 with MASQUERADE out of eth1',
];
const NODE_CHECKS = [
  'hostname is pi1',
  'a password login is refused',
  'gets its reserved address 10.87.0.101 from the router',
  'reaches the router 10.87.0.1, its default gateway',
];

skipUnlessRoot(test)(
  'lab mode: the router serves the node its reserved address and forwards; both pass every check',
  async (t) => {
    t.timeout(50 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'firstrun', [
      { name: 'pi0', recipe: 'router' },
      { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' },
    ]);
    await bakeLab(lab, ['pi0', 'pi1']);

    const run = await runBootTestCli(lab, []);
    const result = JSON.parse(run.stdout) as BootTestResult;
    t.is(result.mode, 'lab');
    const byHost = new Map(result.hosts.map((host) => [host.host, host]));
    for (const [host, expected] of [
      ['pi0', ROUTER_CHECKS],
      ['pi1', NODE_CHECKS],
    ] as const) {
      const checks = byHost.get(host)?.checks ?? [];
      for (const name of expected)
        t.true(
          checks.some((check) => check.ok && check.name === name),
          `${host}: check "${name}" missing or failed:\n${cliOutput(run)}`,
        );
    }
    t.is(run.exitCode, 0, cliOutput(run));
  },
);

import test from 'ava';
import path from 'node:path';
import type { BootTestResult } from '../../src/boot-test/run-boot-test.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, runBootTestCli, TEST_NETWORK } from '../helpers/bootable-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { writeTestLab } from '../helpers/test-lab-file.ts';

// The router and two nodes on a virtual switch: real dnsmasq, NetworkManager and the router's
// first-boot installer (from the sample's local archive), under software emulation. pi2 was added
// to the lab file after the router was baked: its MAC has no reservation, and only that check may fail.

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
  'reaches multi-user with no failed units',
  'hostname is pi1',
  'first-boot hook removed from cmdline.txt',
  'a password login is refused',
  'gets its reserved address 10.87.0.101 from the router',
  'reaches the router 10.87.0.1, its default gateway',
];

const PI1 = { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' };
const PI2 = { name: 'pi2', recipe: 'node', mac: 'd8:3a:dd:f7:77:d8', ip: '10.87.0.102' };

skipUnlessRoot(test)(
  'lab mode: the router serves reservations and forwards; a node whose MAC has no reservation is named',
  async (t) => {
    t.timeout(50 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'firstrun', [{ name: 'pi0', recipe: 'router' }, PI1, PI2]);
    const beforePi2 = await writeTestLab(path.join(temp.path, 'lab-before-pi2.yaml'), {
      network: TEST_NETWORK,
      image: { clean: lab.cleanDir, placeholder: 'changeme' },
      ssh: { user: 'pi' },
      hosts: [{ name: 'pi0', recipe: 'router' }, PI1],
    });
    await bakeLab(lab, ['pi0', 'pi1'], { labFile: beforePi2 });
    await bakeLab(lab, ['pi2']);

    const run = await runBootTestCli(lab, []);
    const result = JSON.parse(run.stdout) as BootTestResult;
    t.is(result.mode, 'lab');
    const byHost = new Map(result.hosts.map((host) => [host.host, host]));
    for (const [host, expected] of [
      ['pi0', ROUTER_CHECKS],
      ['pi1', NODE_CHECKS],
    ] as const) {
      t.true(byHost.get(host)?.ok, `${host}:\n${cliOutput(run)}`);
      const checks = byHost.get(host)?.checks ?? [];
      for (const name of expected)
        t.true(
          checks.some((check) => check.ok && check.name === name),
          `${host}: check "${name}" missing or failed:\n${cliOutput(run)}`,
        );
    }
    const pi2 = byHost.get('pi2');
    const failed = pi2?.checks.filter((check) => !check.ok) ?? [];
    t.deepEqual(
      failed.map((check) => check.name),
      ['gets its reserved address 10.87.0.102 from the router'],
      cliOutput(run),
    );
    t.regex(failed[0]?.detail ?? '', /^leased 10\.87\.0\.(1[1-9]|[2-9]\d); eth0 has /);
    t.regex(
      pi2?.error ?? '',
      /^pi2: gets its reserved address 10\.87\.0\.102 from the router: .*serial log: .*pi2-boot-2\.log\)$/,
    );
    t.is(run.exitCode, 1, cliOutput(run));
  },
);

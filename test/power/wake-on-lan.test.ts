import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { cliOutput, type CliResult, runScriptCli } from '../helpers/bake-cli.ts';
import { startFakeKasaPlug } from '../helpers/fake-kasa-plug.ts';
import { makeNetLab } from '../helpers/netns.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { startSleepingNic } from '../helpers/sleeping-nic.ts';
import { knownHostsFor, makeClientKey, startSshd } from '../helpers/sshd.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { isolatedSshEnv, writeTestLab } from '../helpers/test-lab-file.ts';

/*
 * `npm run power -- on` for a host marked wake_on_lan: the router (a real sshd in a namespace, its
 * own perl) broadcasts the magic packet onto the lab link, where data1's sleeping network card (the
 * double: a UDP listener in data1's namespace) hears it. The lab network is only reached through
 * the router's namespace, as in the closet.
 */

interface PowerJson {
  readonly plugs: readonly { plug: string; on?: boolean; ok: boolean }[];
  readonly woken: readonly { host: string; mac: string; via?: string; result: string; ok: boolean }[];
}

const DATA1_MAC = '1c:69:7a:a2:6f:89';
const ROUTER_LAB_ADDRESS = '10.215.0.1';

skipUnlessRoot(test)(
  'power on data1: the router broadcasts the magic packet on the lab network, once its lab address is up; a router that does not answer is named',
  async (t) => {
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const net = makeNetLab();
    t.teardown(() => net.teardown());
    const routerNs = await net.namespace();
    const home = await net.link('host', routerNs);
    const data1Ns = await net.namespace();
    const labLink = await net.link(routerNs, data1Ns, { pool: 'lab' });
    const key = await makeClientKey(temp.path);
    const router = await startSshd({
      netns: routerNs,
      listenAddress: home.rightAddress,
      authorizedKeys: key.publicKey,
    });
    t.teardown(() => router.stop());
    const nic = await startSleepingNic(data1Ns);
    t.teardown(() => nic.stop());
    const kasa = await startFakeKasaPlug({ on: false });
    t.teardown(() => kasa.stop());

    const knownHosts = path.join(temp.path, 'known_hosts');
    const labFile = await writeTestLab(path.join(temp.path, 'lab.yaml'), {
      share: undefined,
      network: {
        subnet: '10.214.0.0/15',
        router: ROUTER_LAB_ADDRESS,
        dhcp: { start: '10.215.0.10', end: '10.215.0.99', lease: '1h' },
        lan: 'eth0',
        uplink: 'wlan0',
      },
      ssh: { user: 'root', identity: key.privateKeyFile, known_hosts: knownHosts, connect_timeout: 5 },
      power: {
        plugs: [{ name: 'strip', driver: 'kasa', address: '127.0.0.1', port: kasa.port, feeds: ['pi1'] }],
      },
      hosts: [
        {
          name: 'pi0',
          recipe: 'router',
          ssh: { address: home.rightAddress, port: router.port },
          imager: { address: home.rightAddress, port: 2222 },
        },
        { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.215.0.101' },
        { name: 'data1', mac: DATA1_MAC, ip: '10.215.0.200', wake_on_lan: true },
      ],
    });
    await knownHostsFor(knownHosts, router);
    const power = (args: readonly string[]): Promise<CliResult> =>
      runScriptCli('power', [...args, '--lab', labFile], {
        env: isolatedSshEnv(path.join(temp.path, 'home')),
      });
    const json = (result: CliResult): PowerJson => JSON.parse(result.stdout) as PowerJson;

    // The router's lab interface does not hold the router address yet: nothing can be sent.
    const noAddress = await power(['on', 'data1', '--json']);
    t.is(noAddress.exitCode, 1, cliOutput(noAddress));
    t.deepEqual(json(noAddress).plugs, []);
    t.regex(
      json(noAddress).woken[0]?.result ?? '',
      /^not woken: pi0 could not send the magic packet: this machine has no address 10\.215\.0\.1 .*is its lab interface up\?/,
    );
    t.is(nic.heard.length, 0);

    const labVeth = await interfaceWithAddress(routerNs.name, labLink.leftAddress);
    await execa('ip', ['-n', routerNs.name, 'addr', 'add', `${ROUTER_LAB_ADDRESS}/32`, 'dev', labVeth]);
    const woken = await power(['on', 'data1', '--json']);
    t.is(woken.exitCode, 0, cliOutput(woken));
    t.like(json(woken).woken[0], { host: 'data1', mac: DATA1_MAC, via: 'pi0', ok: true });
    const packets = await nic.waitFor(3, 5000);
    const magic = 'ff'.repeat(6) + DATA1_MAC.replaceAll(':', '').repeat(16);
    t.deepEqual(
      packets.map((packet) => [packet.from, packet.hex]),
      Array.from({ length: 3 }, () => [ROUTER_LAB_ADDRESS, magic]),
      'three magic packets for data1, sent from the router on the lab link',
    );

    // Everything on: the plug, then data1 woken; the text names both.
    const everything = await power(['on']);
    t.is(everything.exitCode, 0, cliOutput(everything));
    t.true(kasa.relay.on);
    t.regex(everything.stdout, /^strip +on +pi1 +switched on$/m);
    t.regex(everything.stdout, /^data1 +1c:69:7a:a2:6f:89 +magic packet sent from pi0/m);
    await nic.waitFor(6, 5000);

    const off = await power(['off', 'data1']);
    t.is(off.exitCode, 2, cliOutput(off));
    t.regex(off.stderr, /No plug feeds data1 in .*: it is woken by wake-on-LAN, which only switches it on/);

    await router.stop();
    const routerDown = await power(['on', 'data1', '--json']);
    t.is(routerDown.exitCode, 1, cliOutput(routerDown));
    t.regex(
      json(routerDown).woken[0]?.result ?? '',
      /^not woken: the router pi0 does not answer .*Power it on first \(npm run power -- on pi0\), then run npm run power -- on data1\.$/,
    );
    t.is(nic.heard.length, 6, 'nothing more was sent');
  },
);

async function interfaceWithAddress(netns: string, address: string): Promise<string> {
  const { stdout } = await execa('ip', ['-n', netns, '-o', '-4', 'addr', 'show']);
  const line = stdout.split('\n').find((l) => l.includes(` ${address}/`));
  const name = line?.split(/\s+/)[1];
  if (!name) throw new Error(`no interface holds ${address} in ${netns}:\n${stdout}`);
  return name;
}

import net from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import type { StatusReport } from '../../src/status/host-status.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import {
  type PublishedShare,
  publishSampleLab,
  type DeployLab,
  startDeployLab,
} from '../helpers/deploy-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { currentImage } from '../helpers/share-check.ts';

/*
 * `npm run status` over fake Pis (real sshd in namespaces; vcgencmd is the only double) and two
 * hosts that are not there: a port that accepts and says nothing (a wedged machine) and a closed
 * port. Each host gets its own state in one run.
 */

let share: PublishedShare | undefined;
let lab: DeployLab | undefined;
const labs: DeployLab[] = [];
const servers: net.Server[] = [];
test.after.always(async () => {
  for (const server of servers) server.close();
  await lab?.teardown();
  for (const other of labs) await other.teardown();
  await share?.remove();
});

async function listen(silent: boolean): Promise<number> {
  const server = net.createServer((socket) => {
    if (!silent) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  if (silent) servers.push(server);
  else await new Promise((resolve) => server.close(resolve));
  return port;
}

skipUnlessRoot(test.serial)(
  'up as itself, up in its imager, no SSH (wedged), down: one line each',
  async (t) => {
    share ??= await publishSampleLab();
    lab = await startDeployLab({
      share,
      pis: [
        { name: 'pi1', startAs: 'node' },
        { name: 'pi2', startAs: 'imager' },
      ],
    });
    const wedged = await listen(true);
    const closed = await listen(false);
    const data = parse(await readFile(lab.labFile, 'utf8')) as { hosts: Record<string, unknown>[] };
    for (const [name, port] of [
      ['pi3', wedged],
      ['pi4', closed],
    ] as const)
      data.hosts.push({
        name,
        recipe: 'node',
        ssh: { address: '127.0.0.1', port },
        imager: { address: '127.0.0.1', port },
      });
    await writeFile(lab.labFile, stringify(data));

    const run = await lab.cli('status', ['--json', '--timeout', '3']);
    t.is(run.exitCode, 1, `not every host is up: exit 1\n${cliOutput(run)}`);
    const report = JSON.parse(run.stdout) as StatusReport;
    const byHost = Object.fromEntries(report.hosts.map((status) => [status.host, status]));
    t.is(byHost.pi1?.reach, 'up');
    t.is(byHost.pi1?.running, 'itself');
    t.is(byHost.pi1?.bootloader, '2025-02-12', "the date the fake Pi's bootloader reports");
    t.deepEqual(byHost.pi1?.throttled, {
      raw: '0x50000',
      now: [],
      sinceBoot: ['under-voltage', 'throttled'],
    });
    t.is(byHost.pi1?.version.share, (await currentImage(share.shareDir, 'pi1')).version);
    t.is(byHost.pi2?.reach, 'up');
    t.is(byHost.pi2?.running, 'imager');
    t.is(byHost.pi2?.drift, undefined, 'drift is judged on the host itself, not its imager');
    t.is(byHost.pi3?.reach, 'no-ssh');
    t.regex(byHost.pi3?.why ?? '', /accepts connections but says nothing within 3 s/);
    t.is(byHost.pi4?.reach, 'down');

    const text = await lab.cli('status', ['--timeout', '3']);
    t.regex(text.stdout, /^pi1 +up /m);
    t.regex(text.stdout, /^pi2 +in its imager /m);
    t.regex(text.stdout, /^pi3 +no SSH /m);
    t.regex(text.stdout, /^pi4 +down /m);
    t.regex(text.stdout, /since boot: under-voltage, throttled/);
  },
);

skipUnlessRoot(test.serial)("the router's leases name the machines the lab file does not know", async (t) => {
  share ??= await publishSampleLab();
  const leases = path.join(await mkdtemp(path.join(os.tmpdir(), 'pi-lab-leases-')), 'dnsmasq.leases');
  await writeFile(
    leases,
    [
      '1765000000 1c:69:7a:a2:6f:89 10.215.0.200 data1 01:1c:69:7a:a2:6f:89',
      '1765000000 AA:BB:CC:00:11:22 10.215.0.42 printer *',
      '1765000000 de:ad:be:ef:00:01 10.215.0.43 * *',
    ].join('\n'),
  );
  const routerLab = await startDeployLab({
    share,
    pis: [{ name: 'pi0', recipe: 'router', leasesFile: leases }],
  });
  labs.push(routerLab);
  const data = parse(await readFile(routerLab.labFile, 'utf8')) as { hosts: Record<string, unknown>[] };
  data.hosts.push({ name: 'data1', mac: '1c:69:7a:a2:6f:89', ip: '10.215.0.200' });
  await writeFile(routerLab.labFile, stringify(data));

  const run = await routerLab.cli('status', ['pi0', '--json', '--timeout', '3']);
  t.is(run.exitCode, 0, cliOutput(run));
  t.deepEqual((JSON.parse(run.stdout) as StatusReport).unknownLeases, [
    { mac: 'aa:bb:cc:00:11:22', ip: '10.215.0.42', name: 'printer' },
    { mac: 'de:ad:be:ef:00:01', ip: '10.215.0.43', name: '' },
  ]);
  const text = await routerLab.cli('status', ['pi0', '--timeout', '3']);
  t.regex(
    text.stdout,
    /unknown machine on the lab network: aa:bb:cc:00:11:22 has 10\.215\.0\.42 \(printer\)/,
  );
});

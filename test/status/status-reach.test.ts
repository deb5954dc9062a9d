import net from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
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
const servers: net.Server[] = [];
test.after.always(async () => {
  for (const server of servers) server.close();
  await lab?.teardown();
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

skipUnlessRoot(test)('up as itself, up in its imager, no SSH (wedged), down: one line each', async (t) => {
  share = await publishSampleLab();
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
  t.deepEqual(byHost.pi1?.throttled, { raw: '0x50000', now: [], sinceBoot: ['under-voltage', 'throttled'] });
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
});

import test from 'ava';
import { cliOutput } from '../helpers/bake-cli.ts';
import {
  type DeployLab,
  type PublishedShare,
  publishSampleLab,
  startDeployLab,
} from '../helpers/deploy-lab.ts';
import { partitionOffset, readFatText } from '../helpers/disk-readers.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';

/*
 * `npm run deploy -- --all` on a lab of four fake Pis (test/helpers/fake-pi.ts): the router pi0 and
 * three nodes. The nodes sit on a lab subnet that only the router's namespace is linked to, so
 * every connection to them (node and imager) goes through pi0 as jump host. pi2 has a bootloader
 * from before one-shot boot orders: it is sent to its imager by renaming its USB config.txt.
 */

const rootTest = skipUnlessRoot(test.serial);
let share: PublishedShare | undefined;
let lab: DeployLab | undefined;

test.after.always(async () => {
  await lab?.teardown();
  await share?.remove();
});

interface JsonOutcome {
  host: string;
  status: string;
  version?: string;
}

const NODES = ['pi1', 'pi2', 'pi3'];

rootTest(
  '--all: three nodes in parallel through the router as jump host, then the router alone',
  async (t) => {
    share = await publishSampleLab();
    lab = await startDeployLab({
      share,
      pis: [
        { name: 'pi0', recipe: 'router' },
        { name: 'pi1' },
        { name: 'pi2', bootloader: 'old' },
        { name: 'pi3' },
      ],
      parallel: 3,
    });
    const deployLab = lab;

    const result = await deployLab.deploy(['--all', '--yes', '--json']);
    t.is(result.exitCode, 0, cliOutput(result));
    const outcomes = (JSON.parse(result.stdout) as { hosts: JsonOutcome[] }).hosts;
    t.deepEqual(
      outcomes.map((o) => `${o.host} ${o.status}`),
      ['pi1 deployed', 'pi2 deployed', 'pi3 deployed', 'pi0 deployed'],
    );

    for (const host of ['pi0', ...NODES]) {
      const pi = deployLab.pi(host);
      t.is(pi.identity(), 'node', `${host} runs from its USB disk`);
      const diskFile = deployLab.disk(host).file;
      const boot = await partitionOffset(diskFile, 'boot');
      t.regex(await readFatText(diskFile, boot, 'firstrun.sh'), new RegExp(`set_hostname ${host}\\n`));
    }

    // The nodes went at once: each was sent to its imager before any of them was restored.
    const firstCall = (host: string) => callTimes(deployLab, host).then((times) => Math.min(...times));
    const restoredAt = async (host: string) =>
      Math.max(...(await callTimes(deployLab, host, /^imager\d reboot$/)));
    const nodeStarts = await Promise.all(NODES.map(firstCall));
    const nodeRestores = await Promise.all(NODES.map(restoredAt));
    t.true(Math.max(...nodeStarts) < Math.min(...nodeRestores), 'the three nodes overlapped');

    // The router went last and alone: after every node had come back on its USB disk.
    const nodesBack = Math.max(...NODES.map((host) => lastBoot(deployLab, host)));
    t.true((await firstCall('pi0')) * 1000 > nodesBack, 'the router started after the nodes were back');

    // Old bootloader: no one-shot boot order, the USB boot partition's config.txt renamed instead.
    const pi2Calls = (await deployLab.pi('pi2').calls()).map((line) => line.split(' ').slice(1).join(' '));
    t.deepEqual(pi2Calls, ['pi2 vcgencmd bootloader_version', 'pi2 reboot', 'imager2 reboot']);
    const pi1Calls = (await deployLab.pi('pi1').calls()).map((line) => line.split(' ').slice(1).join(' '));
    t.true(pi1Calls.includes('pi1 vcmailbox 0x0003808b 4 4 0xf41'));
  },
);

/** Seconds since the epoch of the Pi's calls to its doubles, those matching `what` only if given. */
async function callTimes(deployLab: DeployLab, host: string, what?: RegExp): Promise<number[]> {
  return (await deployLab.pi(host).calls())
    .map((line) => ({ at: Number(line.split(' ')[0]), call: line.split(' ').slice(1).join(' ') }))
    .filter((entry) => what === undefined || what.test(entry.call))
    .map((entry) => entry.at);
}

function lastBoot(deployLab: DeployLab, host: string): number {
  const boots = deployLab
    .pi(host)
    .boots()
    .filter((boot) => boot.identity === 'node');
  return boots.at(-1)?.at ?? Number.POSITIVE_INFINITY;
}

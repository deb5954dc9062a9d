import { readFile } from 'node:fs/promises';
import test from 'ava';
import { cliOutput } from '../helpers/bake-cli.ts';
import {
  type DeployLab,
  type PublishedShare,
  publishSampleLab,
  startDeployLab,
} from '../helpers/deploy-lab.ts';
import { partitionOffset, readDiskTable, readFatText } from '../helpers/disk-readers.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { currentImage } from '../helpers/share-check.ts';

/*
 * `npm run deploy pi1` against a fake Pi (test/helpers/fake-pi.ts): real sshd for the node and its
 * imager in a namespace, a loop device as the USB disk, the real ocs-sr restoring from the
 * published share. Only vcgencmd, vcmailbox and the reboot are doubles.
 */

const rootTest = skipUnlessRoot(test.serial);
let share: PublishedShare | undefined;
const labs: DeployLab[] = [];

test.after.always(async () => {
  for (const lab of labs) await lab.teardown();
  await share?.remove();
});

async function lab(...args: Parameters<typeof startDeployLab>): Promise<DeployLab> {
  const started = await startDeployLab(...args);
  labs.push(started);
  return started;
}

async function publishedShare(): Promise<PublishedShare> {
  share ??= await publishSampleLab();
  return share;
}

interface JsonOutcome {
  host: string;
  status: string;
  version?: string;
  step?: string;
  error?: string;
  hostKey?: string;
  logFile?: string;
  steps?: Record<string, number>;
}

function outcomes(stdout: string): JsonOutcome[] {
  return (JSON.parse(stdout) as { hosts: JsonOutcome[] }).hosts;
}

rootTest(
  'deploy pi1: from its USB system into the imager, restore, verify, reboot, back as pi1',
  async (t) => {
    const published = await publishedShare();
    const deployLab = await lab({ share: published, pis: [{ name: 'pi1', startAs: 'node' }] });
    const current = await currentImage(published.shareDir, 'pi1');

    const result = await deployLab.deploy(['pi1', '--yes', '--json']);
    t.is(result.exitCode, 0, cliOutput(result));
    const [outcome] = outcomes(result.stdout);
    t.is(outcome?.status, 'deployed', cliOutput(result));
    t.is(outcome?.version, current.version);
    t.truthy(outcome?.hostKey, 'the new host key is reported');
    t.truthy(outcome?.steps?.restore, 'per-step timings');

    const pi = deployLab.pi('pi1');
    t.is(pi.identity(), 'node');
    const calls = (await pi.calls()).map((line) => line.split(' ').slice(1).join(' '));
    t.deepEqual(calls, [
      'pi1 vcgencmd bootloader_version',
      'pi1 vcmailbox 0x0003808b 4 4 0xf41',
      'pi1 reboot',
      'imager1 reboot',
    ]);

    // The USB disk holds pi1's image: table and identifier as saved, first-boot files naming pi1.
    const diskFile = deployLab.disk('pi1').file;
    const table = await readDiskTable(diskFile);
    const saved = await readFile(`${published.shareDir}/pi1/sda-pt.sf`, 'utf8');
    t.regex(saved, new RegExp(`label-id: 0x${table.diskId}`, 'i'));
    const boot = await partitionOffset(diskFile, 'boot');
    t.regex(await readFatText(diskFile, boot, 'firstrun.sh'), /set_hostname pi1\n/);
    t.regex(
      await readFatText(diskFile, boot, 'pi-lab-image.json'),
      new RegExp(`"version": "${current.version}"`),
    );

    // The new host key is in known_hosts, under the node's address.
    t.regex(await readFile(deployLab.knownHostsFile, 'utf8'), /pi-lab-deploy:pi1/);
    t.truthy(outcome?.logFile);
    t.regex(await readFile(outcome?.logFile ?? '', 'utf8'), /Partclone successfully restored/);
  },
);

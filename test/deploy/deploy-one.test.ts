import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
const SUDO_PASSWORD = 'the lab’s sudo password; $1 `x`';
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

rootTest('--dry-run prints every remote command in order and touches nothing', async (t) => {
  const published = await publishedShare();
  const deployLab = await lab({ share: published, pis: [{ name: 'pi1', startAs: 'node' }] });
  const disk = deployLab.disk('pi1');
  const diskBefore = await sha256File(disk.file);
  const knownHostsBefore = await readFile(deployLab.knownHostsFile, 'utf8');

  const result = await deployLab.deploy(['pi1', '--dry-run']);
  t.is(result.exitCode, 0, cliOutput(result));
  const lines = result.stdout.split('\n').map((line) => line.trim());
  const order = [
    'vcgencmd bootloader_version',
    'vcmailbox 0x0003808b 4 4 0xf41',
    'ocs-sr -or',
    'sfdisk -d',
    'reboot',
  ];
  // Each in turn, after the one before.
  let from = 0;
  for (const start of order) {
    const at = lines.findIndex((line, i) => i >= from && line.includes(start));
    t.true(at >= from, `${start} after line ${from}:\n${result.stdout}`);
    from = at + 1;
  }
  const ocs = /ocs-sr -or .*/.exec(lines.find((line) => line.includes('ocs-sr -or')) ?? '')?.[0] ?? '';
  t.regex(ocs, / -batch /);
  t.regex(ocs, / -p true /);
  t.notRegex(ocs, / -c /);
  t.regex(ocs, new RegExp(`restoredisk pi1 ${disk.name} `));
  t.regex(result.stdout, /nothing was connected to or changed/);

  t.deepEqual(await deployLab.pi('pi1').calls(), [], 'no command ran on the Pi');
  t.is(deployLab.pi('pi1').identity(), 'node');
  t.is(await sha256File(disk.file), diskBefore);
  t.is(await readFile(deployLab.knownHostsFile, 'utf8'), knownHostsBefore);
});

rootTest(
  'SSH cut mid-restore, logged in as pi with a sudo password: a clear error, the Pi stays in its imager, a re-run completes',
  async (t) => {
    const published = await publishedShare();
    const deployLab = await lab({
      share: published,
      pis: [{ name: 'pi1', startAs: 'imager' }],
      loginUser: { name: 'pi', password: SUDO_PASSWORD, sudo: 'password' },
    });
    const pi = deployLab.pi('pi1');

    let deployGroup: number | undefined;
    const running = deployLab.deploy(['pi1', '--yes', '--json'], {
      env: { PI_LAB_SUDO_PASSWORD: SUDO_PASSWORD },
      onSpawn: (pid) => {
        deployGroup = pid;
      },
    });
    const deploy = { ended: false };
    void running.then(() => (deploy.ended = true));
    const deadline = Date.now() + 5 * 60_000;
    while (!pi.restoreJobStarted()) {
      if (deploy.ended || Date.now() > deadline) {
        // Stopped rather than left to its 20-minute timeout: the failure shows what it printed.
        if (!deploy.ended && deployGroup !== undefined) process.kill(-deployGroup, 'SIGTERM');
        t.fail(`the restore never started\n${cliOutput(await running)}`);
        return;
      }
      await sleep(200);
    }
    await sleep(2000);
    await pi.cutConnections();
    const cut = await running;
    t.is(cut.exitCode, 1, cliOutput(cut));
    const [failed] = outcomes(cut.stdout);
    t.is(failed?.status, 'failed');
    t.is(failed?.step, 'restore');
    t.regex(failed?.error ?? '', /lost the connection to .* while following the restore/);
    t.regex(failed?.error ?? '', /Deploy pi1 again/);
    t.is(pi.identity(), 'imager', 'left in its imager');

    const passwordFile = path.join(deployLab.logDir, '..', 'sudo-password');
    await writeFile(passwordFile, `${SUDO_PASSWORD}\n`, { mode: 0o600 });
    const rerun = await deployLab.deploy(['pi1', '--yes', '--json', '--sudo-password-file', passwordFile]);
    t.is(rerun.exitCode, 0, cliOutput(rerun));
    t.is(outcomes(rerun.stdout)[0]?.status, 'deployed');
    t.is(pi.identity(), 'node');
    const calls = (await pi.calls()).map((line) => line.split(' ').slice(1).join(' '));
    t.deepEqual(calls, ['imager1 reboot'], 'one restore, one reboot');
    const boot = await partitionOffset(deployLab.disk('pi1').file, 'boot');
    t.regex(await readFatText(deployLab.disk('pi1').file, boot, 'firstrun.sh'), /set_hostname pi1\n/);

    const logs = await Promise.all(
      (await readdir(deployLab.logDir)).map((name) => readFile(path.join(deployLab.logDir, name), 'utf8')),
    );
    t.true(logs.length > 0, 'the restore logs were kept');
    const everything = [cut.stdout, cut.stderr, rerun.stdout, rerun.stderr, ...logs, ...(await pi.calls())];
    t.false(
      everything.some((text) => text.includes(SUDO_PASSWORD)),
      'the password is in no output, log or command line',
    );
  },
);

rootTest('a Pi that never comes back: the step that waited is named, with its timeout', async (t) => {
  const published = await publishedShare();
  const deployLab = await lab({
    share: published,
    pis: [{ name: 'pi1', startAs: 'node', neverBoots: 'imager' }],
    timeouts: { boot: 5, locate: 3 },
    // sudo without a password (NOPASSWD) for the one-shot boot order and the reboot.
    loginUser: { name: 'pi', password: SUDO_PASSWORD, sudo: 'nopasswd' },
  });
  const result = await deployLab.deploy(['pi1', '--yes']);
  t.is(result.exitCode, 1, cliOutput(result));
  t.regex(result.stderr, /pi1 failed at to-imager/);
  t.regex(result.stderr, /imager1 did not answer at .* within 5 s/);
  t.is(deployLab.pi('pi1').identity(), 'off');
});

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

import test from 'ava';
import { type Manifest, MANIFEST_FILE, MANIFEST_SCHEMA, renderManifest } from '../../src/image/manifest.ts';
import {
  type DeployOutcome,
  type DeployStep,
  SILENT_DEPLOY_REPORTER,
} from '../../src/deploy/deploy-events.ts';
import { deployHost } from '../../src/deploy/deploy-host.ts';
import type { DeploySettings } from '../../src/deploy/deploy-settings.ts';
import type { DeployTarget } from '../../src/deploy/deploy-target.ts';
import { dryRunCommands } from '../../src/deploy/dry-run-deploy.ts';
import { imageLocation } from '../../src/deploy/image-location.ts';
import { type Recording, recordingPort } from '../../src/deploy/recording-port.ts';
import { SimulatedPi, type SimulatedPiOptions } from '../../src/deploy/simulated-pi.ts';
import { NO_SUDO_PASSWORD } from '../../src/ssh/sudo-password.ts';

/*
 * The deploy step list against a simulated Pi (src/deploy/simulated-pi.ts): the branches that the
 * namespace tests reach only as root and one at a time, here without root and in parallel. The
 * commands are the real builders' output; only the Pi's answers are simulated.
 */

const TARGET: DeployTarget = {
  host: 'pi1',
  isRouter: false,
  node: { host: '10.0.0.11', port: 22, user: 'pi' },
  imagerName: 'imager1',
  imager: { host: '10.0.0.111', port: 22, user: 'pi' },
  disk: 'sda',
  sdDisk: 'mmcblk0',
  imageRoot: '/home/partimag',
  nfs: '10.0.0.2:/srv/os_images',
};

const SETTINGS: DeploySettings = {
  ssh: { sudo: NO_SUDO_PASSWORD },
  timeouts: { locate: 2, boot: 2, preflight: 5, restore: 5, verify: 5 },
  placeholder: 'changeme',
  logDir: '/nonexistent/logs',
};

const VERSION = 'pi1-0123456789ab';
const TABLE =
  'label: dos\nlabel-id: 0x1234\ndevice: /dev/sda\nunit: sectors\n\n/dev/sda1 : start=8192, size=1048576, type=c\n/dev/sda2 : start=1056768, size=8388608, type=83\n';

function imageFiles(bootDevice = 'sda1'): Record<string, string> {
  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    host: 'pi1',
    recipe: 'node',
    version: VERSION,
    inputKey: 'k',
    inputs: {
      cleanImage: { name: 'pi-img', id: 'i' },
      labEntry: '',
      recipe: '',
      overlays: {},
      tools: {},
      pipeline: 'bake-6',
    },
    partitions: {},
    written: { [bootDevice]: { '/pi-lab-image.json': 'sha256:00 644 0:0' } },
    files: {
      disk: { sha256: 'a'.repeat(64), size: 4 },
      'sda-pt.sf': { sha256: 'b'.repeat(64), size: TABLE.length },
      'sda-pt.parted': { sha256: 'c'.repeat(64), size: 40 },
    },
  };
  return {
    [MANIFEST_FILE]: renderManifest(manifest),
    disk: 'sda\n',
    'sda-pt.sf': TABLE,
    'sda-pt.parted': 'Disk /dev/sda: 9445376s\n',
  };
}

function simulatedPi(options: Partial<SimulatedPiOptions> = {}): SimulatedPi {
  return new SimulatedPi({
    target: TARGET,
    image: imageLocation(TARGET.imageRoot, TARGET.host),
    imageFiles: imageFiles(),
    startsAs: 'node',
    ...options,
  });
}

async function deploy(pi: SimulatedPi): Promise<{ outcome: DeployOutcome; commands: string[] }> {
  const recording: Recording = { lines: [] };
  const outcome = await deployHost(TARGET, SETTINGS, SILENT_DEPLOY_REPORTER, recordingPort(pi, recording));
  return { outcome, commands: recording.lines };
}

const stepsOf = (outcome: DeployOutcome): DeployStep[] => Object.keys(outcome.steps ?? {}) as DeployStep[];
const ran = (commands: readonly string[], text: string) => commands.some((line) => line.includes(text));

test('from the USB disk with a current bootloader: one-shot boot order, every step, deployed', async (t) => {
  const pi = simulatedPi();
  const { outcome, commands } = await deploy(pi);
  t.is(outcome.status, 'deployed', outcome.error);
  t.is(outcome.version, VERSION);
  t.deepEqual(stepsOf(outcome), [
    'locate',
    'to-imager',
    'preflight',
    'restore',
    'verify',
    'reboot',
    'came-back',
  ]);
  t.true(ran(commands, 'vcmailbox 0x0003808b 4 4 0xf41'));
  t.false(ran(commands, 'config.txt.pi-lab-off'), 'the USB disk is left as it is');
  t.true(ran(commands, 'restoredisk pi1 sda'));
  t.is(pi.identity, 'node');
});

test('an old bootloader: the USB boot partition is disabled instead, and the restore brings it back', async (t) => {
  const pi = simulatedPi({ bootloader: '2023/05/11 07:25:03' });
  const { outcome, commands } = await deploy(pi);
  t.is(outcome.status, 'deployed', outcome.error);
  t.false(ran(commands, 'vcmailbox'));
  t.true(ran(commands, 'mv /boot/firmware/config.txt /boot/firmware/config.txt.pi-lab-off'));
  t.is(pi.identity, 'node');
});

test('an imager that answers under another name is never written to', async (t) => {
  const pi = simulatedPi({ startsAs: 'imager', imagerHostname: 'imager9' });
  const { outcome, commands } = await deploy(pi);
  t.is(outcome.status, 'failed');
  t.is(outcome.step, 'locate');
  t.regex(outcome.error ?? '', /pi1 answers neither as itself nor as its imager/);
  t.regex(outcome.error ?? '', /it answers as imager9, not imager1/);
  t.deepEqual(
    commands.map((line) => line.replace(/^\[[^\]]+\] /, '')),
    ['hostname'],
    'asked its name, nothing else',
  );
});

test('the connection cut while the restore is followed: a clear failure, then a re-run follows the same restore', async (t) => {
  const pi = simulatedPi({ cutsWhileFollowing: 1 });
  const first = await deploy(pi);
  t.is(first.outcome.status, 'failed');
  t.is(first.outcome.step, 'restore');
  t.regex(first.outcome.error ?? '', /lost the connection to .* while following the restore/);
  t.regex(first.outcome.error ?? '', /Deploy pi1 again/);
  t.is(pi.identity, 'imager', 'the host stays in its imager');

  const second = await deploy(pi);
  t.is(second.outcome.status, 'deployed', second.outcome.error);
  t.false(ran(second.commands, 'vcgencmd'), 'found in its imager: not sent there again');
  t.false(ran(second.commands, 'lsblk'), 'a running restore is followed, not checked and started again');
  t.true(ran(second.commands, 'tail -n +1 -f'));
});

test('a restore already done for this version is not run again; the disk is verified and the host rebooted', async (t) => {
  const pi = simulatedPi({ startsAs: 'imager', job: { done: 0, version: VERSION } });
  const { outcome, commands } = await deploy(pi);
  t.is(outcome.status, 'deployed', outcome.error);
  t.false(ran(commands, 'echo started'), 'no second restore');
  t.true(ran(commands, 'sfdisk -d /dev/sda'));
  t.false('to-imager' in (outcome.steps ?? {}), 'already in its imager');
});

test('a restore done for another version is run again', async (t) => {
  const pi = simulatedPi({ startsAs: 'imager', job: { done: 0, version: 'pi1-ffffffffffff' } });
  const { outcome, commands } = await deploy(pi);
  t.is(outcome.status, 'deployed', outcome.error);
  t.true(ran(commands, 'echo started'));
});

test('the dry run reads the boot partition from the manifest, as the real run does', async (t) => {
  const commands = await dryRunCommands(TARGET, SETTINGS, { from: 'test', files: imageFiles('sda2') });
  t.true(ran(commands, 'mtype -i /dev/sda2 ::/pi-lab-image.json'), commands.join('\n'));
  t.false(ran(commands, '/dev/sda1'));
  t.false(ran(commands, 'a real run would stop here'), commands.join('\n'));
  t.true(commands.some((line) => line.startsWith('# came-back')));
});

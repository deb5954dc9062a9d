import test from 'ava';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BootTestResult } from '../../src/boot-test/run-boot-test.ts';
import { cliOutput, runScriptCli } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, runBootTestCli } from '../helpers/bootable-lab.ts';
import { restoreImageToDisk } from '../helpers/ocs-restore.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

// The whole chain once: bake → publish → real ocs-sr restore onto a loop device → that disk boots,
// runs Imager's firstrun.sh, reboots, and comes up as pi1 passing every check.

const EXPECTED_CHECKS = [
  'reaches multi-user with no failed units',
  'hostname is pi1',
  '/etc/hosts maps 127.0.1.1 to pi1',
  'first-boot hook removed from cmdline.txt',
  'sshd -T: key-only login',
  'image marker names pi1 pi1-',
  'a password login is refused',
];

skipUnlessRoot(test)(
  'bake, publish, restore pi1 from the share with ocs-sr, boot the restored disk: pi1 comes up and passes',
  async (t) => {
    t.timeout(45 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'firstrun', [
      { name: 'pi0', recipe: 'router' },
      { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' },
      { name: 'pi2', recipe: 'node', mac: 'd8:3a:dd:f7:77:d8', ip: '10.87.0.102' },
    ]);
    await bakeLab(lab, []);

    const shareDir = path.join(temp.path, 'share');
    await mkdir(shareDir);
    const published = await runScriptCli('publish', [
      '--lab',
      lab.labFile,
      '--from',
      lab.imagesDir,
      '--to',
      shareDir,
    ]);
    t.is(published.exitCode, 0, cliOutput(published));

    const restored = await restoreImageToDisk({
      imageRoot: shareDir,
      imageName: 'pi1',
      diskFile: path.join(temp.path, 'pi1-usb-disk.img'),
    });
    t.teardown(() => restored.cleanup());
    const before = await restored.sfdiskDump();

    const run = await runBootTestCli(lab, ['pi1', '--disk', `pi1=${restored.diskFile}`]);
    t.is(run.exitCode, 0, cliOutput(run));
    const [pi1] = (JSON.parse(run.stdout) as BootTestResult).hosts;
    for (const name of EXPECTED_CHECKS)
      t.true(
        pi1?.checks.some((check) => check.ok && check.name.startsWith(name)),
        `check "${name}" missing or failed:\n${cliOutput(run)}`,
      );
    // firstrun.sh ran on the first boot and rebooted; the second boot came up with the hook gone.
    t.deepEqual(
      pi1?.boots.map((boot) => boot.outcome),
      ['rebooted', 'up'],
    );
    t.regex(pi1?.boots[0]?.cmdline ?? '', /systemd\.run=\/boot\/firmware\/firstrun\.sh/);
    t.notRegex(pi1?.boots[1]?.cmdline ?? '', /systemd\.run=/);
    // The restored disk was booted from a copy: it still holds the first-boot hook.
    t.regex(await restored.readBootFile('cmdline.txt'), /systemd\.run=\/boot\/firmware\/firstrun\.sh/);
    t.is(await restored.sfdiskDump(), before);
  },
);

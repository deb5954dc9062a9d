import test from 'ava';
import type { BootTestResult } from '../../src/boot-test/run-boot-test.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, runBootTestCli } from '../helpers/bootable-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

skipUnlessRoot(test)(
  'a node baked from the cloud-init sample comes up in one boot as pi1 and passes every check',
  async (t) => {
    t.timeout(45 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'cloud-init', [
      { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' },
    ]);
    await bakeLab(lab, ['pi1']);

    const run = await runBootTestCli(lab, ['pi1']);
    t.is(run.exitCode, 0, cliOutput(run));
    const [pi1] = (JSON.parse(run.stdout) as BootTestResult).hosts;
    for (const name of [
      'reaches multi-user with no failed units',
      'hostname is pi1',
      '/etc/hosts maps 127.0.1.1 to pi1',
      'cloud-init finished without errors',
      'sshd -T: key-only login',
      'a password login is refused',
    ])
      t.true(
        pi1?.checks.some((check) => check.ok && check.name === name),
        `check "${name}" missing or failed:\n${cliOutput(run)}`,
      );
    // cloud-init applies the seed in the same boot: no reboot, and the instance-id is pi1's own.
    t.deepEqual(
      pi1?.boots.map((boot) => boot.outcome),
      ['up'],
    );
    t.regex(pi1?.boots[0]?.cmdline ?? '', /ds=nocloud;i=pi1-[0-9a-f]{12}/);
  },
);

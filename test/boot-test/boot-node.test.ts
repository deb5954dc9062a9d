import test from 'ava';
import { access } from 'node:fs/promises';
import type { BootTestResult } from '../../src/boot-test/run-boot-test.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, runBootTestCli } from '../helpers/bootable-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

// Real QEMU boots of real baked images: minutes each under software emulation, so one node here.

const EXPECTED_CHECKS = [
  'reaches multi-user with no failed units',
  'hostname is pi1',
  '/etc/hosts maps 127.0.1.1 to pi1',
  'first-boot hook removed from cmdline.txt',
  'sshd -T: key-only login',
  'image marker names pi1 ',
  'a password login is refused',
];

skipUnlessRoot(test)(
  'a node baked from the firstrun.sh sample boots, runs firstrun.sh, reboots and passes every check',
  async (t) => {
    t.timeout(45 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'firstrun', [
      { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' },
    ]);
    await bakeLab(lab, ['pi1']);

    const run = await runBootTestCli(lab, ['pi1']);
    t.is(run.exitCode, 0, cliOutput(run));
    const result = JSON.parse(run.stdout) as BootTestResult;
    const [pi1] = result.hosts;
    t.truthy(pi1, cliOutput(run));
    if (!pi1) return;
    t.true(pi1.ok, cliOutput(run));
    for (const name of EXPECTED_CHECKS)
      t.true(
        pi1.checks.some((check) => check.ok && check.name.startsWith(name)),
        `check "${name}" missing or failed:\n${cliOutput(run)}`,
      );
    // firstrun.sh ran on the first boot and rebooted; the second boot came up with the hook gone.
    t.deepEqual(
      pi1.boots.map((boot) => boot.outcome),
      ['rebooted', 'up'],
    );
    t.regex(pi1.boots[0]?.cmdline ?? '', /systemd\.run=\/boot\/firmware\/firstrun\.sh/);
    t.notRegex(pi1.boots[1]?.cmdline ?? '', /systemd\.run=/);
    for (const log of pi1.logs) await t.notThrowsAsync(access(log), `serial log ${log}`);
  },
);

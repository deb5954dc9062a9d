import test from 'ava';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BootTestResult, HostBootResult } from '../../src/boot-test/run-boot-test.ts';
import { readFatFile, writeFatFilesInto } from '../../src/tools/mtools.ts';
import { cliOutput, PROJECT_DIR, type CliResult } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, runBootTestCli } from '../helpers/bootable-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

// The boot test must fail when it should, naming the host, the check and the serial log.

const NODE = { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' };
/** Where the sample disk's FAT partition starts (sector 16384, as on Raspberry Pi OS images from 2025). */
const SAMPLE_BOOT_OFFSET = 16384 * 512;

function onlyHost(run: CliResult, t: { truthy: (value: unknown, message?: string) => void }): HostBootResult {
  const result = JSON.parse(run.stdout) as BootTestResult;
  const [host] = result.hosts;
  t.truthy(host, cliOutput(run));
  if (!host) throw new Error('no host in the result');
  return host;
}

skipUnlessRoot(test)(
  'an overlay that breaks sshd is caught minutes after the login prompt, naming pi1 and its serial log',
  async (t) => {
    t.timeout(40 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const project = path.join(temp.path, 'project');
    await cp(path.join(PROJECT_DIR, 'recipes'), path.join(project, 'recipes'), { recursive: true });
    await cp(path.join(PROJECT_DIR, 'overlays'), path.join(project, 'overlays'), { recursive: true });
    const dropIn = path.join(project, 'overlays/common/rootfs/etc/ssh/sshd_config.d/10-key-only.conf');
    await writeFile(dropIn, `${await readFile(dropIn, 'utf8')}ClientAliveInterval often\n`);
    const lab = await makeBootableLab(temp.path, 'firstrun', [NODE]);
    await bakeLab(lab, ['pi1'], { projectDir: project });

    const run = await runBootTestCli(lab, ['pi1']);
    t.is(run.exitCode, 1, cliOutput(run));
    const pi1 = onlyHost(run, t);
    const failed = pi1.checks.filter((check) => !check.ok);
    t.deepEqual(
      failed.map((check) => check.name),
      ['SSH answers once the system is up'],
      cliOutput(run),
    );
    t.regex(failed[0]?.detail ?? '', /at the login prompt for \d+ s without letting us in/);
    t.regex(pi1.error ?? '', /^pi1: SSH answers once the system is up: [^]*serial log: .*pi1-boot-2\.log\)$/);
  },
);

skipUnlessRoot(test)(
  'a first-boot script that does not rename the host is caught by the hostname and /etc/hosts checks',
  async (t) => {
    t.timeout(40 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'firstrun', [NODE], {
      changeCleanDisk: async (disk) => {
        const fat = `${disk}@@${SAMPLE_BOOT_OFFSET}`;
        const script = (await readFatFile(fat, 'firstrun.sh')).toString('utf8');
        // The fallback branch (no imager_custom on this image) is the one that runs: make it a no-op.
        const broken = script
          .replace(/^ {3}echo changeme >\/etc\/hostname$/m, '   : # the hostname stays as it is')
          .replace(/^ {3}sed -i "s\/127\.0\.1\.1.*$/m, '   true');
        t.not(broken, script);
        const local = path.join(temp.path, 'firstrun.sh');
        await writeFile(local, broken);
        await writeFatFilesInto(fat, [local], '/');
      },
    });
    await bakeLab(lab, ['pi1']);

    const run = await runBootTestCli(lab, ['pi1']);
    t.is(run.exitCode, 1, cliOutput(run));
    const pi1 = onlyHost(run, t);
    const failed = pi1.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`);
    t.deepEqual(
      failed,
      [
        'hostname is pi1: hostname says raspberrypi',
        '/etc/hosts maps 127.0.1.1 to pi1: 127.0.1.1 line: 127.0.1.1\t\traspberrypi',
      ],
      cliOutput(run),
    );
  },
);

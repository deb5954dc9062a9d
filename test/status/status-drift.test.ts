import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { runBootTest, SAMPLE_KEY_DIR } from '../../src/boot-test/run-boot-test.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import type { StatusReport } from '../../src/status/host-status.ts';
import { cliOutput, PROJECT_DIR, runScriptCli } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, TEST_NETWORK } from '../helpers/bootable-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { isolatedSshEnv, writeTestLab } from '../helpers/test-lab-file.ts';

/*
 * `npm run status` against a baked image that really booted (QEMU, as boot-test runs it): its first
 * boot changed two files on purpose (firstrun.sh removed itself and its hook from cmdline.txt),
 * which status names as such and not as drift; a file changed on the running host afterwards is
 * drift, named with what changed.
 */

const HOST = { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' };
const DROP_IN = '/etc/ssh/sshd_config.d/10-key-only.conf';

skipUnlessRoot(test)(
  'status on a booted pi1: up as itself, the baked version, no drift; then a changed file is drift',
  async (t) => {
    t.timeout(45 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'firstrun', [HOST]);
    await bakeLab(lab, ['pi1']);
    const loaded = await loadLab(lab.labFile, { projectDir: PROJECT_DIR });

    let first: StatusReport | undefined;
    let second: StatusReport | undefined;
    const result = await runBootTest({
      lab: loaded,
      hosts: ['pi1'],
      fromDir: lab.imagesDir,
      logDir: lab.logDir,
      holdOpen: async ([sshLine = '']) => {
        const port = Number(/ -p (\d+) /.exec(sshLine)?.[1]);
        const key = path.join(lab.imagesDir, SAMPLE_KEY_DIR, 'id_ed25519');
        const home = path.join(temp.path, 'home');
        await mkdir(home, { recursive: true });
        const knownHosts = path.join(temp.path, 'known_hosts');
        await writeFile(knownHosts, await runTool('ssh-keyscan', ['-p', String(port), '127.0.0.1']));
        const statusLab = await writeTestLab(path.join(temp.path, 'status-lab.yaml'), {
          network: TEST_NETWORK,
          image: { clean: lab.cleanDir, placeholder: 'changeme' },
          share: undefined,
          ssh: { user: 'pi', identity: key, known_hosts: knownHosts },
          hosts: [{ ...HOST, ssh: { address: '127.0.0.1', port } }],
        });
        const status = async (): Promise<StatusReport> => {
          const run = await runScriptCli('status', ['--lab', statusLab, '--from', lab.imagesDir, '--json'], {
            env: isolatedSshEnv(home),
          });
          t.is(run.exitCode, 0, cliOutput(run));
          return JSON.parse(run.stdout) as StatusReport;
        };
        first = await status();
        const ssh = [
          '-i',
          key,
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-p',
          String(port),
          'pi@127.0.0.1',
        ];
        await runTool('ssh', [
          ...ssh,
          `echo '# edited by hand' | sudo -n tee -a ${DROP_IN} >/dev/null && sudo -n chmod 0600 ${DROP_IN}`,
        ]);
        second = await status();
      },
    });
    t.true(result.ok, JSON.stringify(result, null, 2));

    const [before] = first?.hosts ?? [];
    t.is(before?.reach, 'up');
    t.is(before?.running, 'itself');
    t.truthy(before?.version.running);
    t.is(before?.version.running, before?.version.baked, 'it runs the version baked here');
    t.truthy(before?.uptimeSeconds);
    const drift = before?.drift;
    if (!drift || 'unknown' in drift) return t.fail(`drift not checked: ${JSON.stringify(drift)}`);
    t.deepEqual(drift.changed, [], 'nothing drifted after its first boot');
    t.true(drift.checked >= 5, `${drift.checked} files checked`);
    t.deepEqual(
      drift.firstBoot.map((finding) => path.posix.basename(finding.path)).sort(),
      ['cmdline.txt', 'firstrun.sh'],
      'what the first boot changed on purpose',
    );

    const after = second?.hosts[0]?.drift;
    if (!after || 'unknown' in after) return t.fail(`drift not checked: ${JSON.stringify(after)}`);
    t.deepEqual(after.changed, [{ path: DROP_IN, what: 'content changed; mode 0600, baked 0644' }]);
  },
);

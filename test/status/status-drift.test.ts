import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { restoreDiskFile } from '../../src/boot-test/disk-from-image.ts';
import { runBootTest, SAMPLE_KEY_DIR } from '../../src/boot-test/run-boot-test.ts';
import { readManifest } from '../../src/image/manifest.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import type { HostAudit } from '../../src/audit/audit-lab.ts';
import { expectedFiles } from '../../src/status/drift.ts';
import type { StatusReport } from '../../src/status/host-status.ts';
import { cliOutput, PROJECT_DIR, runScriptCli } from '../helpers/bake-cli.ts';
import { bakeLab, makeBootableLab, TEST_NETWORK } from '../helpers/bootable-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runBash, runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { isolatedSshEnv, writeTestLab } from '../helpers/test-lab-file.ts';

/*
 * `npm run status` against a baked image that really booted (QEMU, as boot-test runs it), from a
 * disk on which the baked config.txt was edited before the boot. Its first boot removed firstrun.sh on
 * purpose: status names that as such, not as drift; the edited config.txt is drift; everything else matches; the files only root
 * may read are said to be unverified (the sample's user has no password-less sudo, as it should).
 */

const HOST = { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' };

skipUnlessRoot(test)(
  "status on a booted pi1: up as itself on the baked version; an edited config.txt is drift, the first boot's own changes are not",
  async (t) => {
    t.timeout(45 * 60_000);
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const lab = await makeBootableLab(temp.path, 'firstrun', [HOST]);
    await bakeLab(lab, ['pi1']);
    const loaded = await loadLab(lab.labFile, { projectDir: PROJECT_DIR });

    const disk = await restoreDiskFile(path.join(lab.imagesDir, 'pi1'), path.join(temp.path, 'pi1.img'));
    const fat = `${disk.path}@@${disk.bootOffset}`;
    const configTxt = path.join(temp.path, 'config.txt');
    await runBash(
      'MTOOLS_SKIP_CHECK=1 mtype -i "$1" ::/config.txt > "$2" && echo "# edited by hand" >> "$2"',
      [fat, configTxt],
    );
    await runBash('MTOOLS_SKIP_CHECK=1 mcopy -o -i "$1" "$2" ::/config.txt', [fat, configTxt]);

    let report: StatusReport | undefined;
    let audited: { hosts: HostAudit[] } | undefined;
    const result = await runBootTest({
      lab: loaded,
      hosts: ['pi1'],
      fromDir: lab.imagesDir,
      logDir: lab.logDir,
      disks: { pi1: disk.path },
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
        const run = await runScriptCli('status', ['--lab', statusLab, '--from', lab.imagesDir, '--json'], {
          env: isolatedSshEnv(home),
        });
        t.is(run.exitCode, 0, cliOutput(run));
        report = JSON.parse(run.stdout) as StatusReport;
        const cli = (script: string, args: readonly string[]) =>
          runScriptCli(script, ['--lab', statusLab, ...args], {
            env: isolatedSshEnv(home),
          });
        t.log((await cli('status', ['--from', lab.imagesDir])).stdout);
        const audit = await cli('audit', ['--json']);
        t.is(audit.exitCode, 0, `the sample passes the security checklist:\n${cliOutput(audit)}`);
        audited = JSON.parse(audit.stdout) as { hosts: HostAudit[] };
        t.log((await cli('audit', [])).stdout);
      },
    });
    t.true(result.ok, JSON.stringify(result, null, 2));

    const [pi1] = report?.hosts ?? [];
    t.is(pi1?.reach, 'up');
    t.is(pi1?.running, 'itself');
    t.truthy(pi1?.version.running);
    t.is(pi1?.version.running, pi1?.version.baked, 'it runs the version baked here');
    t.truthy(pi1?.uptimeSeconds);
    const drift = pi1?.drift;
    if (!drift || 'unknown' in drift) return t.fail(`drift not checked: ${JSON.stringify(drift)}`);
    t.deepEqual(drift.changed, [{ path: '/boot/firmware/config.txt', what: 'content changed' }]);
    const baked = await readManifest(path.join(lab.imagesDir, 'pi1'));
    const written = baked ? expectedFiles(baked) : [];
    t.is(drift.checked + drift.unverified.length, written.length, 'every file the bake wrote was looked at');
    t.true(
      written.filter((file) => file.onBoot).every((file) => !drift.unverified.includes(file.path)),
      'the boot files are readable by anyone: all compared',
    );
    t.deepEqual(
      drift.firstBoot.map((finding) => path.posix.basename(finding.path)).sort(),
      ['firstrun.sh'],
      'what the first boot changed on purpose (the bake leaves cmdline.txt of the firstrun flavour as it is)',
    );
    t.deepEqual(
      audited?.hosts.map((host) => [host.system, host.ok, host.findings?.length]),
      [['pi1', true, 7]],
      'sshd (4 settings), sudo, password, ports: all pass on the sample',
    );
    t.log(`checked ${drift.checked}, unverified (root only): ${drift.unverified.join(', ') || 'none'}`);
  },
);

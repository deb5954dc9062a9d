import test from 'ava';
import type { HostAudit } from '../../src/audit/audit-lab.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import { type PublishedShare, publishSampleLab, startDeployLab } from '../helpers/deploy-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';

/*
 * `npm run audit` over fake Pis (real sshd, sudo and PAM in namespaces): pi1 runs its own system,
 * pi2 its SD imager, both with a login user `pi` whose sudo needs no password, the NOPASSWD the
 * checklist forbids. (The sample image passing every check is shown on a booted VM, in
 * test/status/status-drift.test.ts.)
 */

let published: PublishedShare | undefined;
test.after.always(async () => published?.remove());

skipUnlessRoot(test)(
  'NOPASSWD fails on the host and on the imager, with its fix; the password is set; exit 1',
  async (t) => {
    published = await publishSampleLab();
    const lab = await startDeployLab({
      share: published,
      pis: [{ name: 'pi1' }, { name: 'pi2', startAs: 'imager' }],
      loginUser: { name: 'pi', password: 'a lab password', sudo: 'nopasswd' },
    });
    t.teardown(() => lab.teardown());
    const run = await lab.cli('audit', ['--all', '--json']);
    t.is(run.exitCode, 1, cliOutput(run));
    const hosts = (JSON.parse(run.stdout) as { hosts: HostAudit[] }).hosts;
    t.deepEqual(
      hosts.map((host) => [host.host, host.system, host.ok]),
      [
        ['pi1', 'pi1', false],
        ['pi2', 'imager2', false],
      ],
    );
    for (const host of hosts) {
      const finding = (check: string) => host.findings?.find((f) => f.check === check);
      t.like(finding('sudo asks for a password'), { ok: false, detail: 'pi may sudo without a password' });
      t.regex(finding('sudo asks for a password')?.fix ?? '', /remove NOPASSWD for pi/);
      t.like(finding('pi has a password'), { ok: true, detail: 'set' });
      const rootLogin = finding('sshd permitrootlogin');
      if (rootLogin && !rootLogin.ok)
        t.regex(
          rootLogin.fix ?? '',
          host.system === 'imager2' ? /on that system \(pi-lab does not bake it\)/ : /bake and deploy again/,
          'an imager is not baked: its fix is by hand',
        );
      t.regex(finding('listening TCP ports')?.detail ?? '', /:\d+/, 'the fake Pi lists what listens');
    }
    const text = await lab.cli('audit', ['--all']);
    t.is(text.exitCode, 1);
    t.log(text.stdout);
    t.regex(text.stdout, /^imager2 +FAIL +sudo asks for a password +pi may sudo without a password/m);
  },
);

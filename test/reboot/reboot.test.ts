import test from 'ava';
import type { HostReboot } from '../../src/reboot/reboot-lab.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import {
  type DeployLab,
  type PublishedShare,
  publishSampleLab,
  startDeployLab,
} from '../helpers/deploy-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';

/*
 * `npm run reboot -- --all` over fake Pis: a router and two nodes behind it, plus one in its imager.
 * The reboot is a double (a fake Pi restarts its sshd with a new boot id, as a real boot gives a new
 * kernel boot id); the nodes come back before the router is rebooted; the imager is left alone.
 * Logged in as `pi`, whose sudo asks for the password (test/helpers/login-user.ts).
 */

let share: PublishedShare | undefined;
let lab: DeployLab | undefined;
test.after.always(async () => {
  await lab?.teardown();
  await share?.remove();
});

const SUDO_PASSWORD = 'reboot them all, please';

skipUnlessRoot(test)(
  'nodes back first, the router last, a host in its imager left alone (as pi, sudo with a password)',
  async (t) => {
    share = await publishSampleLab();
    lab = await startDeployLab({
      share,
      pis: [
        { name: 'pi0', recipe: 'router' },
        { name: 'pi1' },
        { name: 'pi2' },
        { name: 'pi3', startAs: 'imager' },
      ],
      loginUser: { name: 'pi', password: SUDO_PASSWORD, sudo: 'password' },
    });
    const run = await lab.cli('reboot', ['--all', '--timeout', '60', '--json'], {
      env: { PI_LAB_SUDO_PASSWORD: SUDO_PASSWORD },
    });
    t.false(`${run.stdout}${run.stderr}`.includes(SUDO_PASSWORD), 'the password is in no output');
    t.is(run.exitCode, 1, `pi3 was not rebooted: exit 1\n${cliOutput(run)}`);
    const hosts = (JSON.parse(run.stdout) as { hosts: HostReboot[] }).hosts;
    t.deepEqual(
      hosts.map((host) => [host.host, host.result]),
      [
        ['pi1', 'back'],
        ['pi2', 'back'],
        ['pi3', 'skipped'],
        ['pi0', 'back'],
      ],
    );
    t.regex(hosts[2]?.detail ?? '', /it runs its imager imager3/);
    t.regex(hosts[3]?.detail ?? '', /every node answers through it again/);
    const nodeBack = (name: string) => lab?.pi(name).boots().at(-1)?.at ?? Number.NaN;
    const routerBoots = lab.pi('pi0').boots();
    t.is(routerBoots.length, 2, 'the router booted once more');
    t.true(
      (routerBoots[1]?.at ?? 0) > Math.max(nodeBack('pi1'), nodeBack('pi2')),
      'the router came back after the nodes',
    );
    for (const name of ['pi1', 'pi2']) t.is(lab.pi(name).boots().length, 2, `${name} booted once more`);
    t.is(lab.pi('pi3').boots().length, 1, 'the imager was not rebooted');
  },
);

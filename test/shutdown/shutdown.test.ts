import { readFile, writeFile } from 'node:fs/promises';
import test from 'ava';
import { parse, stringify } from 'yaml';
import type { HostShutdown } from '../../src/shutdown/shutdown-lab.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import {
  type DeployLab,
  type PublishedShare,
  publishSampleLab,
  startDeployLab,
} from '../helpers/deploy-lab.ts';
import { type FakeKasaPlug, startFakeKasaPlug } from '../helpers/fake-kasa-plug.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';

/*
 * `npm run shutdown -- --all --power-off` over fake Pis: a router in its namespace and two nodes
 * behind it, reached through it as jump host. Their poweroff is a double (nothing reaches this
 * machine's init; a powered-off fake Pi answers nothing, as a real one), the plug is a fake Kasa
 * on loopback. The nodes go down first, the router only after both are confirmed down, the plug
 * only after the router.
 */

let published: Promise<PublishedShare> | undefined;
const labs: DeployLab[] = [];
const plugs: FakeKasaPlug[] = [];
test.after.always(async () => {
  for (const lab of labs) await lab.teardown();
  for (const plug of plugs) await plug.stop();
  await (await published)?.remove();
});

/** A router and two nodes behind it (pi1 may hang on its way down), fed by one fake Kasa plug. */
async function labWithPlug(hangingNode = false): Promise<{ lab: DeployLab; plug: FakeKasaPlug }> {
  published ??= publishSampleLab();
  const lab = await startDeployLab({
    share: await published,
    pis: [{ name: 'pi0', recipe: 'router' }, { name: 'pi1', ignoresPoweroff: hangingNode }, { name: 'pi2' }],
  });
  labs.push(lab);
  const plug = await startFakeKasaPlug({ on: true });
  plugs.push(plug);
  const data = parse(await readFile(lab.labFile, 'utf8')) as Record<string, unknown>;
  data.power = { plugs: [{ name: 'strip', driver: 'kasa', address: '127.0.0.1', port: plug.port }] };
  await writeFile(lab.labFile, stringify(data));
  return { lab, plug };
}

skipUnlessRoot(test)(
  'nodes first, the router last, the plug after the last host is confirmed down',
  async (t) => {
    const { lab, plug } = await labWithPlug();
    const run = await lab.cli('shutdown', ['--all', '--power-off', '--timeout', '60', '--json']);
    t.is(run.exitCode, 0, cliOutput(run));
    const result = JSON.parse(run.stdout) as {
      hosts: HostShutdown[];
      plugs: { plug: string; result: string }[];
    };
    t.deepEqual(
      result.hosts.map((host) => [host.host, host.result]),
      [
        ['pi1', 'down'],
        ['pi2', 'down'],
        ['pi0', 'down'],
      ],
    );
    const offAt = (name: string) => lab.pi(name).poweredOffAt()[0] ?? Number.NaN;
    t.true(offAt('pi0') > Math.max(offAt('pi1'), offAt('pi2')), 'the router powered off after both nodes');
    const cut = plug.relay.switches.find((change) => !change.on);
    t.truthy(cut, 'the plug was switched off');
    t.true(performance.timeOrigin + (cut?.at ?? 0) > offAt('pi0'), 'the plug after the router was down');
    t.deepEqual(
      result.plugs.map((p) => [p.plug, p.result]),
      [['strip', 'switched off']],
    );
    for (const name of ['pi0', 'pi1', 'pi2']) t.is(lab.pi(name).identity(), 'off');

    const again = await lab.cli('shutdown', ['--all', '--json']);
    t.is(again.exitCode, 0, cliOutput(again));
    t.true(
      (JSON.parse(again.stdout) as { hosts: HostShutdown[] }).hosts.every(
        (host) => host.result === 'was-down',
      ),
      'a second run finds them all down',
    );
  },
);

skipUnlessRoot(test)(
  'a node that hangs on its way down keeps the router up and the plug on, unless told to cut after the timeout',
  async (t) => {
    const { lab, plug } = await labWithPlug(true);
    const run = await lab.cli('shutdown', ['--all', '--power-off', '--timeout', '3', '--json']);
    t.is(run.exitCode, 1, cliOutput(run));
    const result = JSON.parse(run.stdout) as {
      hosts: HostShutdown[];
      plugs: { plug: string; result: string }[];
    };
    t.deepEqual(
      result.hosts.map((host) => [host.host, host.result]),
      [
        ['pi1', 'failed'],
        ['pi2', 'down'],
        ['pi0', 'skipped'],
      ],
    );
    t.regex(result.hosts[0]?.detail ?? '', /still answers SSH 3 s after it was asked to power off/);
    t.regex(result.hosts[2]?.detail ?? '', /left running: pi1 did not go down first/);
    t.is(lab.pi('pi0').identity(), 'node', 'the router still runs: pi1 is reached through it');
    t.regex(result.plugs[0]?.result ?? '', /^not switched off: /);
    t.true(plug.relay.on);

    const forced = await lab.cli('shutdown', [
      '--all',
      '--power-off',
      '--power-off-after-timeout',
      '--timeout',
      '3',
      '--json',
    ]);
    t.is(forced.exitCode, 1, 'pi1 still did not go down');
    const again = JSON.parse(forced.stdout) as { plugs: { plug: string; result: string }[] };
    t.regex(again.plugs[0]?.result ?? '', /^switched off \(forced: pi0, pi1 still answered\)/);
    t.false(plug.relay.on);
  },
);

skipUnlessRoot(test)(
  'as pi, whose sudo asks for a password: none given names the ways to give it; with it, the host goes down',
  async (t) => {
    published ??= publishSampleLab();
    const password = 'good night, pi1';
    const lab = await startDeployLab({
      share: await published,
      pis: [{ name: 'pi1' }],
      loginUser: { name: 'pi', password, sudo: 'password' },
    });
    labs.push(lab);
    const without = await lab.cli('shutdown', ['pi1', '--json'], { env: { PI_LAB_SUDO_PASSWORD: '' } });
    t.is(without.exitCode, 1, cliOutput(without));
    const refused = (JSON.parse(without.stdout) as { hosts: HostShutdown[] }).hosts[0];
    t.is(refused?.result, 'failed');
    t.regex(refused?.detail ?? '', /sudo on pi@.* asks for a password, and none was given/);
    t.is(lab.pi('pi1').identity(), 'node', 'still running');

    const run = await lab.cli('shutdown', ['pi1', '--json'], { env: { PI_LAB_SUDO_PASSWORD: password } });
    t.is(run.exitCode, 0, cliOutput(run));
    t.is((JSON.parse(run.stdout) as { hosts: HostShutdown[] }).hosts[0]?.result, 'down');
    t.is(lab.pi('pi1').identity(), 'off');
    t.false(`${run.stdout}${run.stderr}`.includes(password), 'the password is in no output');
  },
);

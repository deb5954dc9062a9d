import test from 'ava';
import { editedSample, hostAt, type LabData, parseText, problemsOf } from './lab-fixture.ts';

/* The lab file's power section: plugs that feed the lab, and hosts woken with a magic packet. */

const F = 'recipes/lab.yaml';

function withPower(plugs: unknown[], edit: (lab: LabData) => void = () => undefined): string {
  return editedSample((lab) => {
    (lab as LabData & { power: unknown }).power = { plugs };
    edit(lab);
  });
}

test('a plug without feeds feeds every host; its password is named by a variable, never written', (t) => {
  const lab = parseText(
    withPower([{ name: 'strip', driver: 'kasa', address: '192.168.1.50', credentials: 'PI_LAB_PLUG' }]),
  );
  t.deepEqual(lab.power, {
    plugs: [
      {
        name: 'strip',
        driver: 'kasa',
        address: '192.168.1.50',
        credentialsVariable: 'PI_LAB_PLUG',
        feeds: ['pi0', 'pi1', 'pi2', 'pi3', 'data1'],
        index: 0,
      },
    ],
  });
});

test('plugs feeding named hosts, a port, and a host woken on LAN', (t) => {
  const lab = parseText(
    withPower(
      [
        {
          name: 'nodes',
          driver: 'shelly',
          address: 'plug-nodes.home',
          port: 8080,
          feeds: ['pi1', 'pi2', 'pi3'],
        },
        { name: 'router-plug', driver: 'tasmota', address: '192.168.1.51', feeds: ['pi0'] },
      ],
      (lab) => (hostAt(lab, 1).wake_on_lan = true),
    ),
  );
  t.deepEqual(
    lab.power?.plugs.map((plug) => [plug.name, plug.port, plug.feeds]),
    [
      ['nodes', 8080, ['pi1', 'pi2', 'pi3']],
      ['router-plug', undefined, ['pi0']],
    ],
  );
  t.true(lab.hosts[1]?.wakeOnLan);
  t.is(lab.hosts[2]?.wakeOnLan, undefined);
});

test('every power problem at once: field errors beside the cross-field rules', (t) => {
  const problems = problemsOf(
    t,
    withPower(
      [
        { name: 'strip', driver: 'tuya', address: '192.168.1.50', credentials: 'my password' },
        { name: 'strip', driver: 'kasa', address: '192.168.1.50', feeds: ['pi1', 'pi9'] },
        { name: 'pi2', driver: 'shelly', address: '192.168.1.52', feeds: ['pi1'] },
      ],
      (lab) => {
        hostAt(lab, 0).wake_on_lan = true;
      },
    ),
  );
  // plugs[0] has field errors: the rules look at the well-formed plugs only (no "repeats the name").
  t.deepEqual(
    problems.map((line) => line.split(' — ')[0]),
    [
      `${F}: power.plugs[0].driver: Invalid option: expected one of "kasa"|"shelly"|"tasmota" (got "tuya")`,
      `${F}: power.plugs[0].credentials: is not the name of an environment variable (got "my password")`,
      `${F}: power.plugs[2].name: is also the name of a host, so \`npm run power -- off NAME\` could mean either (got "pi2")`,
      `${F}: power.plugs[1].feeds[1]: is not a host of this lab (got "pi9")`,
      `${F}: power.plugs[2].feeds[0]: is fed by power.plugs[1] already (got "pi1")`,
      `${F}: hosts[0].wake_on_lan: needs the host's mac: the magic packet is addressed to it`,
    ],
  );
  t.regex(problems.join('\n'), /name the plug after what it is, e.g\. "pi2-plug"/);
});

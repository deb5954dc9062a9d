import test from 'ava';
import { UserError } from '../../src/errors.ts';
import type { Lab } from '../../src/lab/lab-types.ts';
import { selectPower } from '../../src/power/lab-plugs.ts';
import { editedSample, parseText } from '../lab/lab-fixture.ts';

/* What `npm run power` drives for each target: plugs, and with `on` the hosts to wake. */

function labWith(options: { plugs: boolean; wake: boolean }): Lab {
  return parseText(
    editedSample((lab) => {
      const data = lab as unknown as Record<string, unknown>;
      if (options.plugs)
        data.power = {
          plugs: [
            { name: 'strip', driver: 'kasa', address: '192.0.2.50', feeds: ['pi0', 'pi1', 'data1'] },
            { name: 'spare', driver: 'shelly', address: '192.0.2.51', feeds: ['pi2'] },
          ],
        };
      const data1 = lab.hosts.find((host) => host.name === 'data1');
      if (data1 && options.wake) data1.wake_on_lan = true;
    }),
  );
}

function names(selection: ReturnType<typeof selectPower>): { plugs: string[]; wake: string[] } {
  return { plugs: selection.plugs.map((p) => p.name), wake: selection.wake.map((h) => h.name) };
}

test('every plug; on also wakes every wake_on_lan host, the other actions wake none', (t) => {
  const lab = labWith({ plugs: true, wake: true });
  t.deepEqual(names(selectPower(lab, undefined, 'on')), { plugs: ['strip', 'spare'], wake: ['data1'] });
  t.deepEqual(names(selectPower(lab, undefined, 'off')), { plugs: ['strip', 'spare'], wake: [] });
  t.deepEqual(names(selectPower(lab, 'strip', 'on')), { plugs: ['strip'], wake: ['data1'] });
  t.deepEqual(names(selectPower(lab, 'spare', 'on')), { plugs: ['spare'], wake: [] });
  t.deepEqual(names(selectPower(lab, 'data1', 'on')), { plugs: ['strip'], wake: ['data1'] });
  t.deepEqual(names(selectPower(lab, 'pi2', 'cycle')), { plugs: ['spare'], wake: [] });
});

test('a wake_on_lan host no plug feeds: on wakes it; off, cycle and status say how it is handled', (t) => {
  const lab = labWith({ plugs: false, wake: true });
  t.deepEqual(names(selectPower(lab, 'data1', 'on')), { plugs: [], wake: ['data1'] });
  t.deepEqual(names(selectPower(lab, undefined, 'on')), { plugs: [], wake: ['data1'] });
  for (const action of ['off', 'cycle', 'status'] as const) {
    const error = t.throws(() => selectPower(lab, 'data1', action), { instanceOf: UserError });
    t.regex(error.message, /No plug feeds data1 .*woken by wake-on-LAN, which only switches it on/);
  }
  const all = t.throws(() => selectPower(lab, undefined, 'status'), { instanceOf: UserError });
  t.regex(all.message, /has no power section/);
  t.true(all.details.some((line) => line.includes('npm run power -- on [HOST]')));
});

test('neither plug nor wake-on-LAN: the culprit is named', (t) => {
  const lab = labWith({ plugs: false, wake: false });
  t.throws(() => selectPower(lab, 'data1', 'on'), { instanceOf: UserError, message: /has no power section/ });
  const withPlugs = labWith({ plugs: true, wake: false });
  t.throws(() => selectPower(withPlugs, 'pi3', 'on'), {
    message: /No plug feeds pi3 .*list it under a plug's feeds, or mark it wake_on_lan/,
  });
  t.throws(() => selectPower(withPlugs, 'pi9', 'on'), {
    message: /pi9 is neither a plug nor a host .* \(plugs: strip, spare\)/,
  });
});

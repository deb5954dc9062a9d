import test from 'ava';
import { openPlug, type PlugDriver } from '../../src/power/plug-driver.ts';
import { PlugError } from '../../src/power/plug-errors.ts';
import { type FakeKasaPlug, type FakeKasaPlugOptions, startFakeKasaPlug } from '../helpers/fake-kasa-plug.ts';

/* The kasa driver against a fake Kasa plug on loopback speaking the real wire protocol. */

const TIMEOUT_SECONDS = 1;

async function withFakeKasa(
  options: FakeKasaPlugOptions,
  use: (driver: PlugDriver, fake: FakeKasaPlug) => Promise<void>,
): Promise<void> {
  const fake = await startFakeKasaPlug(options);
  try {
    const driver = openPlug({
      name: 'strip',
      driver: 'kasa',
      address: { host: '127.0.0.1', port: fake.port },
      timeoutSeconds: TIMEOUT_SECONDS,
    });
    await use(driver, fake);
  } finally {
    await fake.stop();
  }
}

test('reads the relay and switches it on and off', async (t) => {
  await withFakeKasa({ on: false }, async (driver, fake) => {
    t.false(await driver.isOn());
    await driver.switchTo(true);
    t.true(fake.relay.on);
    t.true(await driver.isOn());
    await driver.switchTo(false);
    t.false(await driver.isOn());
    t.deepEqual(
      fake.relay.switches.map((change) => [change.on, change.by]),
      [
        [true, 'request'],
        [false, 'request'],
      ],
    );
  });
});

test("cycle switches off now and the plug's count_down timer switches it back on, also a second time", async (t) => {
  await withFakeKasa({ on: true }, async (driver, fake) => {
    for (const round of [1, 2]) {
      t.true(await driver.cycle(1), `round ${round}`);
      t.false(await driver.isOn(), 'off right after the cycle');
      const off = fake.relay.switches.at(-1);
      const on = await fake.relay.waitForSwitch(
        (change) => change.by === 'timer' && change.at > (off?.at ?? 0),
        5000,
      );
      t.true(on.on);
      t.true(on.at - (off?.at ?? 0) >= 950, `back on ${Math.round(on.at - (off?.at ?? 0))} ms after off`);
      t.true(await driver.isOn());
    }
    // The first rule stays in the table after it fired: only deleting it let the second in.
    t.deepEqual(
      fake.requests.filter((request) => !request.includes('get_sysinfo')),
      [1, 2].flatMap(() => [
        '{"count_down":{"delete_all_rules":{}}}',
        '{"system":{"set_relay_state":{"state":0}}}',
        '{"count_down":{"add_rule":{"enable":1,"delay":1,"act":1,"name":"pi-lab power cycle"}}}',
      ]),
    );
  });
});

test('a plug without the count_down module: cycle returns false and switches nothing', async (t) => {
  await withFakeKasa({ on: true, countDown: false }, async (driver, fake) => {
    t.false(await driver.cycle(1));
    t.true(await driver.isOn());
    t.deepEqual(fake.relay.switches, []);
  });
});

for (const [behaviour, what, title] of [
  ['refuses', /refused the connection on port \d+/, 'refuses the connection'],
  ['closes-at-once', /closed the connection without answering/, 'hangs up at once (KLAP only)'],
  [
    'speaks-another-protocol',
    /answered something that is not the Kasa local protocol \(a frame length of \d+ bytes\)/,
    'answers in another protocol',
  ],
] as const) {
  test(`a plug that ${title} is told to enable third-party compatibility`, async (t) => {
    await withFakeKasa({ behaviour }, async (driver, fake) => {
      const error = await t.throwsAsync(driver.isOn(), { instanceOf: PlugError });
      t.is(error.problem, 'no-local-protocol');
      t.true(error.message.startsWith(`plug "strip" (kasa at 127.0.0.1:${fake.port}) `), error.message);
      t.regex(error.message, what);
      t.regex(error.message, /turn it on in the Kasa app/);
      t.regex(error.message, /"third-party compatibility"/);
      t.notRegex(error.message, /\n/);
    });
  });
}

test('a plug that accepts but never answers fails after the timeout, not later', async (t) => {
  await withFakeKasa({ behaviour: 'hangs' }, async (driver, fake) => {
    const started = performance.now();
    const error = await t.throwsAsync(driver.switchTo(true), { instanceOf: PlugError });
    const seconds = (performance.now() - started) / 1000;
    t.is(error.problem, 'unreachable');
    t.is(
      error.message,
      `plug "strip" (kasa at 127.0.0.1:${fake.port}) accepted the connection but did not answer within 1 s; is it a kasa plug? check the driver and address in the lab file, or unplug and replug it`,
    );
    t.true(seconds >= TIMEOUT_SECONDS - 0.05 && seconds < TIMEOUT_SECONDS + 1.5, `${seconds} s`);
  });
});

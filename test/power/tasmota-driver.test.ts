import test from 'ava';
import { openPlug, type PlugCredentials, type PlugDriver } from '../../src/power/plug-driver.ts';
import { PlugError } from '../../src/power/plug-errors.ts';
import {
  type FakeTasmotaPlug,
  type FakeTasmotaPlugOptions,
  startFakeTasmotaPlug,
} from '../helpers/fake-tasmota-plug.ts';

/* The tasmota driver against a fake Tasmota plug on loopback: /cm commands and Backlog. */

const TIMEOUT_SECONDS = 1;

async function withFakeTasmota(
  options: FakeTasmotaPlugOptions & { readonly credentials?: PlugCredentials },
  use: (driver: PlugDriver, fake: FakeTasmotaPlug) => Promise<void>,
): Promise<void> {
  const fake = await startFakeTasmotaPlug(options);
  try {
    const driver = openPlug({
      name: 'strip',
      driver: 'tasmota',
      address: { host: '127.0.0.1', port: fake.port },
      timeoutSeconds: TIMEOUT_SECONDS,
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    await use(driver, fake);
  } finally {
    await fake.stop();
  }
}

test('reads the relay and switches it on and off, with the password when there is one', async (t) => {
  await withFakeTasmota(
    { on: false, password: 'lab-pw', credentials: { password: 'lab-pw' } },
    async (driver, fake) => {
      t.false(await driver.isOn());
      await driver.switchTo(true);
      t.true(fake.relay.on);
      t.true(await driver.isOn());
      await driver.switchTo(false);
      t.false(await driver.isOn());
      t.deepEqual(fake.commands, ['Power', 'Power On', 'Power', 'Power Off', 'Power']);
    },
  );
});

test('cycle is one Backlog: off now, and the plug itself switches back on after the Delay', async (t) => {
  await withFakeTasmota({ on: true }, async (driver, fake) => {
    t.true(await driver.cycle(1));
    const off = await fake.relay.waitForSwitch((change) => !change.on, 1000);
    t.false(await driver.isOn(), 'off right after the cycle');
    const on = await fake.relay.waitForSwitch((change) => change.by === 'timer', 5000);
    t.true(on.on);
    t.true(on.at - off.at >= 950, `back on ${Math.round(on.at - off.at)} ms after off`);
    t.true(await driver.isOn());
    t.deepEqual(fake.commands, ['Backlog Power Off; Delay 10; Power On', 'Power', 'Power']);
  });
});

test('a wrong password, or none, is a credentials message', async (t) => {
  await withFakeTasmota({ password: 'lab-pw', credentials: { password: 'guess' } }, async (driver, fake) => {
    const error = await t.throwsAsync(driver.switchTo(true), { instanceOf: PlugError });
    t.is(error.problem, 'credentials');
    t.is(
      error.message,
      `plug "strip" (tasmota at 127.0.0.1:${fake.port}) refused the password of user "admin" (HTTP 401); check the plug's password in the lab file`,
    );
    t.false(fake.relay.on);
  });
  await withFakeTasmota({ password: 'lab-pw' }, async (driver) => {
    const error = await t.throwsAsync(driver.cycle(1), { instanceOf: PlugError });
    t.is(error.problem, 'credentials');
    t.regex(error.message, /asks for a password/);
  });
});

test('a closed port, and a plug that never answers within the timeout, are unreachable', async (t) => {
  await withFakeTasmota({ behaviour: 'refuses' }, async (driver) => {
    const error = await t.throwsAsync(driver.isOn(), { instanceOf: PlugError });
    t.is(error.problem, 'unreachable');
    t.regex(error.message, /refused the connection/);
  });
  await withFakeTasmota({ behaviour: 'hangs' }, async (driver) => {
    const started = performance.now();
    const error = await t.throwsAsync(driver.isOn(), { instanceOf: PlugError });
    const seconds = (performance.now() - started) / 1000;
    t.is(error.problem, 'unreachable');
    t.regex(error.message, /did not answer within 1 s/);
    t.true(seconds >= TIMEOUT_SECONDS - 0.05 && seconds < TIMEOUT_SECONDS + 1.5, `${seconds} s`);
  });
});

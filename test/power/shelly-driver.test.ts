import test from 'ava';
import { openPlug, type PlugCredentials, type PlugDriver } from '../../src/power/plug-driver.ts';
import { PlugError } from '../../src/power/plug-errors.ts';
import {
  type FakeShellyPlug,
  type FakeShellyPlugOptions,
  startFakeShellyPlug,
} from '../helpers/fake-shelly-plug.ts';
import { startFakeTasmotaPlug } from '../helpers/fake-tasmota-plug.ts';

/* The shelly driver against a fake Shelly Gen2+ plug on loopback: HTTP RPC and digest auth. */

const TIMEOUT_SECONDS = 1;

async function withFakeShelly(
  options: FakeShellyPlugOptions & { readonly credentials?: PlugCredentials },
  use: (driver: PlugDriver, fake: FakeShellyPlug) => Promise<void>,
): Promise<void> {
  const fake = await startFakeShellyPlug(options);
  try {
    const driver = openPlug({
      name: 'strip',
      driver: 'shelly',
      address: { host: '127.0.0.1', port: fake.port },
      timeoutSeconds: TIMEOUT_SECONDS,
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
    await use(driver, fake);
  } finally {
    await fake.stop();
  }
}

test('reads the output and switches it on and off', async (t) => {
  await withFakeShelly({ on: false }, async (driver, fake) => {
    t.false(await driver.isOn());
    await driver.switchTo(true);
    t.true(fake.relay.on);
    t.true(await driver.isOn());
    await driver.switchTo(false);
    t.false(await driver.isOn());
    t.deepEqual(fake.requests, [
      '/rpc/Switch.GetStatus?id=0',
      '/rpc/Switch.Set?id=0&on=true',
      '/rpc/Switch.GetStatus?id=0',
      '/rpc/Switch.Set?id=0&on=false',
      '/rpc/Switch.GetStatus?id=0',
    ]);
  });
});

test('answers the digest challenge of a plug with a password', async (t) => {
  await withFakeShelly(
    { on: false, password: 'lab-pw', credentials: { password: 'lab-pw' } },
    async (driver, fake) => {
      await driver.switchTo(true);
      t.true(await driver.isOn());
      // Each call: the plain request gets a 401 with a fresh nonce, the second one carries the digest.
      t.is(fake.requests.length, 4);
    },
  );
});

test('cycle switches off now and toggle_after switches it back on by the plug itself', async (t) => {
  await withFakeShelly(
    { on: true, password: 'lab-pw', credentials: { password: 'lab-pw' } },
    async (driver, fake) => {
      t.true(await driver.cycle(1));
      t.false(await driver.isOn(), 'off right after the cycle');
      const off = fake.relay.switches.at(-1);
      const on = await fake.relay.waitForSwitch((change) => change.by === 'timer', 5000);
      t.true(on.on);
      t.true(on.at - (off?.at ?? 0) >= 950, `back on ${Math.round(on.at - (off?.at ?? 0))} ms after off`);
      t.true(await driver.isOn());
      t.true(fake.requests.includes('/rpc/Switch.Set?id=0&on=false&toggle_after=1'));
    },
  );
});

test('a wrong password is refused with a credentials message', async (t) => {
  await withFakeShelly({ password: 'lab-pw', credentials: { password: 'guess' } }, async (driver, fake) => {
    const error = await t.throwsAsync(driver.isOn(), { instanceOf: PlugError });
    t.is(error.problem, 'credentials');
    t.is(
      error.message,
      `plug "strip" (shelly at 127.0.0.1:${fake.port}) refused the password of user "admin" (HTTP 401); check the plug's password in the lab file`,
    );
  });
});

test('a plug with a password and none in the lab file asks for one', async (t) => {
  await withFakeShelly({ password: 'lab-pw' }, async (driver) => {
    const error = await t.throwsAsync(driver.switchTo(true), { instanceOf: PlugError });
    t.is(error.problem, 'credentials');
    t.regex(error.message, /asks for a password \(HTTP 401\); give the plug's password in the lab file$/);
  });
});

test('a closed port: unreachable, refused', async (t) => {
  await withFakeShelly({ behaviour: 'refuses' }, async (driver, fake) => {
    const error = await t.throwsAsync(driver.isOn(), { instanceOf: PlugError });
    t.is(error.problem, 'unreachable');
    t.is(
      error.message,
      `plug "strip" (shelly at 127.0.0.1:${fake.port}) refused the connection; is its web server on, on port ${fake.port}? check its address in the lab file`,
    );
  });
});

test('a plug that accepts but never answers fails after the timeout, not later', async (t) => {
  await withFakeShelly({ behaviour: 'hangs' }, async (driver) => {
    const started = performance.now();
    const error = await t.throwsAsync(driver.cycle(1), { instanceOf: PlugError });
    const seconds = (performance.now() - started) / 1000;
    t.is(error.problem, 'unreachable');
    t.regex(error.message, /accepted the connection but did not answer within 1 s; is it a shelly plug\?/);
    t.true(seconds >= TIMEOUT_SECONDS - 0.05 && seconds < TIMEOUT_SECONDS + 1.5, `${seconds} s`);
  });
});

test('a device without the Gen2 RPC (here a Tasmota) is named as possibly a Gen1 Shelly', async (t) => {
  const tasmota = await startFakeTasmotaPlug();
  try {
    const driver = openPlug({
      name: 'strip',
      driver: 'shelly',
      address: { host: '127.0.0.1', port: tasmota.port },
    });
    const error = await t.throwsAsync(driver.isOn(), { instanceOf: PlugError });
    t.is(error.problem, 'unexpected-answer');
    t.regex(
      error.message,
      /gave an unexpected answer to Switch\.GetStatus: HTTP 404 File Not Found; is it a Shelly Gen2 or later\? Gen1 Shellys/,
    );
  } finally {
    await tasmota.stop();
  }
});

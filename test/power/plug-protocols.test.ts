import test from 'ava';
import {
  canAnswerDigest,
  digestAuthorization,
  digestResponse,
  parseDigestChallenge,
} from '../../src/power/http-digest.ts';
import { encodeKasaFrame, readKasaFrame } from '../../src/power/kasa-codec.ts';
import { openPlug, type PlugConnection } from '../../src/power/plug-driver.ts';
import { exchangeFailed, PlugError } from '../../src/power/plug-errors.ts';
import type { ResolvedPlug } from '../../src/power/resolved-plug.ts';
import { shellySetTarget, shellyStatusTarget } from '../../src/power/shelly-driver.ts';
import { tasmotaCommandTarget, tasmotaCycleCommand } from '../../src/power/tasmota-driver.ts';

/* The pure parts of the plug drivers, against published vectors where there are some. */

test('the Kasa frame of set_relay_state on is the one published for the protocol', (t) => {
  const frame = encodeKasaFrame({ system: { set_relay_state: { state: 1 } } });
  t.is(frame.toString('base64'), 'AAAAKtDygfiL/5r31e+UtsWg1Iv5nPCR6LfEsNGlwOLYo4HyhueT9tTu36Lfog==');
  t.deepEqual(readKasaFrame(frame), {
    state: 'complete',
    text: '{"system":{"set_relay_state":{"state":1}}}',
  });
});

test('a Kasa frame is read only once complete, and bytes of another protocol are told apart', (t) => {
  const frame = encodeKasaFrame({ system: { get_sysinfo: {} } });
  t.deepEqual(readKasaFrame(frame.subarray(0, 3)), { state: 'incomplete' });
  t.deepEqual(readKasaFrame(frame.subarray(0, frame.length - 1)), { state: 'incomplete' });
  t.is(readKasaFrame(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')).state, 'not-kasa');
});

test('the SHA-256 digest matches the example of RFC 7616 section 3.9.1', (t) => {
  const challenge = parseDigestChallenge(
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
  if (!challenge) return t.fail('challenge not parsed');
  t.true(canAnswerDigest(challenge));
  const request = {
    challenge,
    user: 'Mufasa',
    password: 'Circle of Life',
    method: 'GET',
    uri: '/dir/index.html',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    nonceCount: 1,
  };
  t.is(digestResponse(request), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  t.is(
    digestAuthorization(request),
    'Digest username="Mufasa", realm="http-auth@example.org", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", algorithm=SHA-256, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", qop=auth, nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  );
});

test("a Shelly's challenge is read; MD5 or another scheme is not answered", (t) => {
  t.deepEqual(
    parseDigestChallenge(
      'Digest qop="auth", realm="shellyplus1-a8032ab12345", nonce="60dc59c6", algorithm=SHA-256',
    ),
    { realm: 'shellyplus1-a8032ab12345', nonce: '60dc59c6', qop: 'auth', algorithm: 'SHA-256' },
  );
  const md5 = parseDigestChallenge('Digest realm="r", nonce="n", qop="auth"');
  t.false(md5 !== undefined && canAnswerDigest(md5));
  t.is(parseDigestChallenge('Basic realm="r"'), undefined);
});

test('Shelly and Tasmota requests are built as their documentation writes them', (t) => {
  t.is(shellyStatusTarget(), '/rpc/Switch.GetStatus?id=0');
  t.is(shellySetTarget(true), '/rpc/Switch.Set?id=0&on=true');
  t.is(shellySetTarget(false, 30), '/rpc/Switch.Set?id=0&on=false&toggle_after=30');
  t.is(tasmotaCommandTarget('Power Off'), '/cm?cmnd=Power%20Off');
  t.is(
    tasmotaCommandTarget('Power', { user: 'admin', password: 'p&w d' }),
    '/cm?user=admin&password=p%26w%20d&cmnd=Power',
  );
  t.is(tasmotaCycleCommand(1), 'Backlog Power Off; Delay 10; Power On');
  t.is(tasmotaCycleCommand(400), 'Backlog Power Off; Delay 3600; Delay 400; Power On');
});

const PLUG: ResolvedPlug = {
  name: 'strip',
  driver: 'shelly',
  host: '192.168.87.5',
  port: 80,
  timeoutSeconds: 5,
};

test('network failures that loopback cannot produce map to the unreachable message', (t) => {
  for (const code of ['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']) {
    const error = exchangeFailed(PLUG, { code, message: code }, 'connecting');
    t.is(error.problem, 'unreachable');
    t.regex(
      error.message,
      new RegExp(`^plug "strip" \\(shelly at 192\\.168\\.87\\.5:80\\) is unreachable \\(${code}\\);`),
    );
  }
  t.regex(exchangeFailed(PLUG, 'timeout', 'connecting').message, /no connection within 5 s; .*lab file$/);
  t.regex(
    exchangeFailed({ ...PLUG, host: 'plug.lab' }, { code: 'ENOTFOUND', message: '' }, 'connecting').message,
    /the name plug\.lab does not resolve \(ENOTFOUND\); give its IP address in the lab file$/,
  );
});

/** Loopback, in case a check let a request through: nothing is ever sent beyond this machine. */
function connection(overrides: Partial<PlugConnection>): PlugConnection {
  return {
    name: 'strip',
    driver: 'kasa',
    address: { host: '127.0.0.1', port: 9 },
    timeoutSeconds: 1,
    ...overrides,
  };
}

test('a connection that cannot work is refused before anything is sent', (t) => {
  const refused = (overrides: Partial<PlugConnection>): string =>
    t.throws(() => openPlug(connection(overrides)), { instanceOf: PlugError }).message;
  t.regex(
    refused({ credentials: { password: 'x' } }),
    /the Kasa local protocol has no password: remove the credentials/,
  );
  t.regex(refused({ address: { host: 'a b' } }), /"a b" is not a host name or IPv4 address/);
  t.regex(refused({ address: { host: 'plug', port: 70000 } }), /port 70000 is not 1\.\.65535/);
  t.regex(refused({ timeoutSeconds: 0 }), /timeoutSeconds 0 is not a positive number/);
});

test('the off time of a cycle is whole seconds up to an hour, for every driver', async (t) => {
  for (const driver of ['kasa', 'shelly', 'tasmota'] as const) {
    const plug = openPlug(connection({ driver }));
    for (const seconds of [0, 1.5, 3601]) {
      const error = await t.throwsAsync(plug.cycle(seconds), { instanceOf: PlugError });
      t.is(error.problem, 'invalid-input');
      t.regex(error.message, /the off time must be whole seconds from 1 to 3600/);
    }
  }
});

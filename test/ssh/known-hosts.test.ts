import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { fingerprintSha256, keyBlobType, shortKeyType } from '../../src/ssh/fingerprint.ts';
import { preferredHostKeyAlgorithms } from '../../src/ssh/host-key-algorithms.ts';
import { checkHostKey, matchHostKey } from '../../src/ssh/host-key-check.ts';
import { knownHostsName, parseKnownHosts, readKnownHosts } from '../../src/ssh/known-hosts.ts';
import { makeClientKey } from '../helpers/sshd.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * known_hosts parsing and host key checks. Keys are made by ssh-keygen, fingerprints and hashed
 * lines are compared with what ssh-keygen itself prints and writes.
 */

interface Key {
  /** `ssh-ed25519 AAAA…` */
  readonly line: string;
  readonly type: string;
  readonly blob: Buffer;
  readonly file: string;
}

let temp: TempDir;
let keyA: Key;
let keyB: Key;
let rsaKey: Key;

async function makeKey(name: string, type = 'ed25519'): Promise<Key> {
  const file = path.join(temp.path, name);
  await runTool('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const [keyType = '', base64 = ''] = (await readFile(`${file}.pub`, 'utf8')).trim().split(/\s+/);
  return {
    line: `${keyType} ${base64}`,
    type: keyType,
    blob: Buffer.from(base64, 'base64'),
    file: `${file}.pub`,
  };
}

test.before(async () => {
  temp = await makeTempDir();
  [keyA, keyB, rsaKey] = await Promise.all([makeKey('a'), makeKey('b'), makeKey('r', 'rsa')]);
});

test.after.always(async () => {
  await temp.remove();
});

test('the fingerprint is the one ssh-keygen -l prints', async (t) => {
  for (const key of [keyA, rsaKey]) {
    const printed = (await runTool('ssh-keygen', ['-l', '-f', key.file])).toString().split(/\s+/)[1] ?? '';
    t.is(fingerprintSha256(key.blob), printed);
    t.regex(fingerprintSha256(key.blob), /^SHA256:[A-Za-z0-9+/]{43}$/);
  }
});

test('the key type comes from the blob; ssh-keyscan names it short', (t) => {
  t.is(keyBlobType(keyA.blob), 'ssh-ed25519');
  t.is(keyBlobType(rsaKey.blob), 'ssh-rsa');
  t.is(shortKeyType('ssh-ed25519'), 'ed25519');
  t.is(shortKeyType('ecdsa-sha2-nistp256'), 'ecdsa');
  t.is(shortKeyType('ssh-rsa'), 'rsa');
  t.throws(() => keyBlobType(Buffer.from([0, 0])));
});

test('names: the host on port 22, [host]:port elsewhere', (t) => {
  t.is(knownHostsName('10.0.0.2', 22), '10.0.0.2');
  t.is(knownHostsName('10.0.0.2', 2222), '[10.0.0.2]:2222');
});

test('plain entries and comma-separated host lists', (t) => {
  const entries = parseKnownHosts(`pi1,10.0.0.2 ${keyA.line} comment here\n`);
  t.is(entries.length, 1);
  for (const host of ['pi1', 'PI1', '10.0.0.2'])
    t.is(checkHostKey(entries, host, 22, keyA.type, keyA.blob), 'known');
  t.is(checkHostKey(entries, 'pi2', 22, keyA.type, keyA.blob), 'unknown');
  // The same host on another port is another name.
  t.is(checkHostKey(entries, '10.0.0.2', 2222, keyA.type, keyA.blob), 'unknown');
});

test('[host]:port entries match only that port', (t) => {
  const entries = parseKnownHosts(`[10.0.0.2]:2222 ${keyA.line}\n`);
  t.is(checkHostKey(entries, '10.0.0.2', 2222, keyA.type, keyA.blob), 'known');
  t.is(checkHostKey(entries, '10.0.0.2', 22, keyA.type, keyA.blob), 'unknown');
  t.is(checkHostKey(entries, '10.0.0.2', 2223, keyA.type, keyA.blob), 'unknown');
});

test('wildcards and negations', (t) => {
  const entries = parseKnownHosts(`10.0.0.*,!10.0.0.9 ${keyA.line}\n`);
  t.is(checkHostKey(entries, '10.0.0.3', 22, keyA.type, keyA.blob), 'known');
  t.is(checkHostKey(entries, '10.0.0.9', 22, keyA.type, keyA.blob), 'unknown');
  t.is(checkHostKey(entries, '10.0.1.3', 22, keyA.type, keyA.blob), 'unknown');
});

test('hashed entries written by ssh-keygen -H match their hosts only', async (t) => {
  const file = path.join(temp.path, 'hashed_known_hosts');
  await writeFile(file, `pi1 ${keyA.line}\n[10.0.0.2]:2222 ${keyB.line}\n`);
  await runTool('ssh-keygen', ['-H', '-f', file]);
  const text = await readFile(file, 'utf8');
  t.false(text.includes('pi1'), 'ssh-keygen hashed the names');
  const entries = await readKnownHosts(file);
  t.is(entries.length, 2);
  t.is(checkHostKey(entries, 'pi1', 22, keyA.type, keyA.blob), 'known');
  t.is(checkHostKey(entries, '10.0.0.2', 2222, keyB.type, keyB.blob), 'known');
  t.is(checkHostKey(entries, 'pi2', 22, keyA.type, keyA.blob), 'unknown');
  t.is(checkHostKey(entries, 'pi1', 22, keyB.type, keyB.blob), 'changed');
});

test('another key of the same type is a change; the lines are named', (t) => {
  const entries = parseKnownHosts(`# lab\n\npi1 ${keyA.line}\n`);
  t.deepEqual(matchHostKey(entries, 'pi1', 22, keyB.type, keyB.blob), {
    status: 'changed',
    lines: [3],
    knownTypes: ['ssh-ed25519'],
  });
});

test('a key of a type not listed for the host is unknown, and the listed types are reported', (t) => {
  const entries = parseKnownHosts(`pi1 ${rsaKey.line}\n`);
  t.deepEqual(matchHostKey(entries, 'pi1', 22, keyA.type, keyA.blob), {
    status: 'unknown',
    lines: [],
    knownTypes: ['ssh-rsa'],
  });
});

test('a @revoked key is refused even where another line lists it for the host', (t) => {
  const entries = parseKnownHosts(`pi1 ${keyA.line}\n@revoked * ${keyA.line}\n`);
  t.deepEqual(matchHostKey(entries, 'pi1', 22, keyA.type, keyA.blob), {
    status: 'revoked',
    lines: [2],
    knownTypes: ['ssh-ed25519'],
  });
  t.is(checkHostKey(entries, 'pi1', 22, keyB.type, keyB.blob), 'changed');
});

test('@cert-authority, comments, malformed lines and a mismatched key type are skipped', (t) => {
  const text = [
    `@cert-authority *.lab ${keyA.line}`,
    '# pi1 ssh-ed25519 AAAA',
    'pi1',
    'pi1 ssh-ed25519 not-base64!',
    `pi1 ssh-rsa ${keyA.line.split(' ')[1] ?? ''}`,
    `|2|abc|def ${keyA.line}`,
    `pi2 ${keyB.line}`,
  ].join('\n');
  const entries = parseKnownHosts(text);
  t.deepEqual(
    entries.map((entry) => entry.line),
    [7],
  );
  t.is(checkHostKey(entries, 'pi1', 22, keyA.type, keyA.blob), 'unknown');
});

test('a missing known_hosts file has no entries', async (t) => {
  t.deepEqual(await readKnownHosts(path.join(temp.path, 'missing')), []);
});

test('host key algorithms: types known for the host come first', (t) => {
  t.deepEqual(preferredHostKeyAlgorithms([]).slice(0, 2), ['ssh-ed25519', 'ecdsa-sha2-nistp256']);
  const withRsa = preferredHostKeyAlgorithms(['ssh-rsa']);
  t.deepEqual(withRsa.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  t.is(new Set(withRsa).size, withRsa.length);
  t.true(withRsa.includes('ssh-ed25519'));
});

test('makeClientKey makes a key ssh-keygen reads back', async (t) => {
  const key = await makeClientKey(temp.path, { name: 'client' });
  const printed = (await runTool('ssh-keygen', ['-y', '-f', key.privateKeyFile])).toString().trim();
  t.is(key.publicKey, printed);
});

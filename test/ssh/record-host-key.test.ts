import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { recordHostKey } from '../../src/ssh/record-host-key.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/* Hosts deployed in parallel come back at the same moment: each key must land, none may be lost. */

test('keys recorded at the same time for many hosts all land, beside the lines the user wrote', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const file = path.join(temp.path, 'known_hosts');
  await writeFile(file, 'github.com ssh-ed25519 AAAAuser users-own\n');
  const hosts = Array.from({ length: 12 }, (_, i) => `10.0.0.${i + 1}`);
  await Promise.all(
    hosts.map((host, i) =>
      recordHostKey(
        file,
        { host, user: 'pi' },
        { keyType: 'ssh-ed25519', keyBlob: Buffer.from(`key-${i}`) },
        `pi-lab-deploy:pi${i}`,
      ),
    ),
  );
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  t.is(lines[0], 'github.com ssh-ed25519 AAAAuser users-own');
  t.deepEqual(
    lines
      .slice(1)
      .map((line) => line.split(' ')[0])
      .sort(),
    [...hosts].sort(),
  );
  t.deepEqual(
    (await readdir(temp.path)).filter((name) => name.includes('.tmp-')),
    [],
    'no temporary file is left',
  );
});

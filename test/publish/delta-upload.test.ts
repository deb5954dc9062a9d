import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { uploadObjects } from '../../src/publish/upload-objects.ts';
import { SILENT_PUBLISH_REPORTER } from '../../src/publish/publish-events.ts';
import { LocalShareFs } from '../../src/share/local-share-fs.ts';
import type { ShareFs } from '../../src/share/share-fs.ts';
import { SftpShareFs } from '../../src/share/sftp-share-fs.ts';
import { OBJECTS_DIR, objectPath } from '../../src/share/share-layout.ts';
import { connectSsh } from '../../src/ssh/connect-ssh.ts';
import { pseudoRandomBytes } from '../../src/sample/pseudo-random-bytes.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { knownHostsFor, makeClientKey, startSshd } from '../helpers/sshd.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * Big repacked images (a gzip member per content-defined chunk) that share most members travel as
 * their new members only, and are put together on the share: locally and over SFTP (dd on data1).
 */

const gzipLevel1 = promisify(gzip);
const CHUNKS = 80;
const CHUNK_BYTES = 128 * 1024;

async function image(file: string, changed: ReadonlySet<number>): Promise<{ sha256: string; size: number }> {
  const members = await Promise.all(
    Array.from({ length: CHUNKS }, (_, i) =>
      gzipLevel1(pseudoRandomBytes(changed.has(i) ? `changed-${i}` : `chunk-${i}`, CHUNK_BYTES), {
        level: 1,
      }),
    ),
  );
  const bytes = Buffer.concat(members);
  await writeFile(file, bytes);
  return { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

async function deltaUploads(
  t: ExecutionContext,
  share: ShareFs,
  shareDir: string,
  localDir: string,
): Promise<void> {
  await share.mkdirp(OBJECTS_DIR);
  const nodeFile = path.join(localDir, 'node-root.gz');
  const routerFile = path.join(localDir, 'router-root.gz');
  const node = await image(nodeFile, new Set());
  const router = await image(routerFile, new Set([3, 40]));
  t.true(node.size > 8 * 1024 * 1024, 'big enough to be segmented');

  const upload = (file: string, facts: { sha256: string; size: number }, stored: string[], host: string) =>
    uploadObjects(
      share,
      [
        {
          sha256: facts.sha256,
          size: facts.size,
          localFile: file,
          usedBy: [`${host}/sda2.ext4-ptcl-img.gz`],
        },
      ],
      '.pi-lab/incoming/test/objects',
      new Set(stored),
      SILENT_PUBLISH_REPORTER,
    );
  const first = await upload(nodeFile, node, [], 'pi1');
  t.is(first.bytesSent, node.size, 'the first image goes whole');
  const second = await upload(routerFile, router, [node.sha256], 'pi0');
  t.deepEqual([...second.rejected], []);
  t.true(second.bytesSent < node.size / 20, `only the two new members travel: ${second.bytesSent} bytes`);
  t.true(second.bytesSent > 0);
  const stored = await readFile(path.join(shareDir, objectPath(router.sha256)));
  t.is(createHash('sha256').update(stored).digest('hex'), router.sha256, 'assembled byte for byte');
}

test('a big image sharing most gzip members with a stored one sends only its new members (local share)', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const shareDir = path.join(temp.path, 'share');
  await mkdir(shareDir);
  await deltaUploads(t, new LocalShareFs(shareDir), shareDir, temp.path);
});

skipUnlessRoot(test)('the same over SFTP: the image is put together on the far side with dd', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const shareDir = path.join(temp.path, 'share');
  await mkdir(shareDir);
  const key = await makeClientKey(temp.path);
  const server = await startSshd({ authorizedKeys: key.publicKey });
  t.teardown(() => server.stop());
  const session = await connectSsh(
    { host: server.host, port: server.port, user: 'root' },
    {
      identityFiles: [key.privateKeyFile],
      knownHostsFile: await knownHostsFor(path.join(temp.path, 'known_hosts'), server),
      useAgent: false,
    },
  );
  const share = await SftpShareFs.open(session, shareDir);
  t.teardown(() => share.close());
  await deltaUploads(t, share, shareDir, temp.path);
});

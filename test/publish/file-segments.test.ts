import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import test from 'ava';
import { readSegments } from '../../src/publish/file-segments.ts';
import { planDelta } from '../../src/publish/plan-delta.ts';
import { pseudoRandomBytes } from '../../src/sample/pseudo-random-bytes.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

const gzipLevel1 = promisify(gzip);

/** A multi-member gzip file as the bake writes it: one member per chunk, level 1, no name or time. */
async function membersOf(chunks: readonly Buffer[]): Promise<Buffer[]> {
  return Promise.all(chunks.map((chunk) => gzipLevel1(chunk, { level: 1 })));
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

test('segments start at every member, whatever the read size; their digests are their bytes', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const chunks = Array.from({ length: 40 }, (_, i) => pseudoRandomBytes(`chunk-${i}`, 200 + i * 97));
  const members = await membersOf(chunks);
  const file = path.join(temp.path, 'image.gz');
  const whole = Buffer.concat(members);
  await writeFile(file, whole);
  const expected: { offset: number; length: number; sha256: string }[] = [];
  let offset = 0;
  for (const member of members) {
    expected.push({ offset, length: member.length, sha256: sha(member) });
    offset += member.length;
  }
  // Read sizes that split the 8-byte member marker in every possible place, and a big one.
  for (const readBytes of [7, 8, 9, 13, 4096, 1 << 22])
    t.deepEqual(await readSegments(file, readBytes), expected, `reads of ${readBytes}`);
});

test('a file sharing most members with a stored one sends only its own: copies merge into ranges', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const chunks = Array.from({ length: 30 }, (_, i) => pseudoRandomBytes(`c${i}`, 5000));
  const base = await membersOf(chunks);
  const changed = [...chunks];
  changed[10] = pseudoRandomBytes('changed', 5000);
  const next = await membersOf(changed);
  const baseFile = path.join(temp.path, 'base.gz');
  const nextFile = path.join(temp.path, 'next.gz');
  await writeFile(baseFile, Buffer.concat(base));
  await writeFile(nextFile, Buffer.concat(next));

  const known = new Map(
    (await readSegments(baseFile)).map((s) => [s.sha256, { object: 'base', offset: s.offset }]),
  );
  const delta = planDelta(await readSegments(nextFile), known);
  const sizeOf = (list: Buffer[], from: number, to: number) =>
    list.slice(from, to).reduce((n, m) => n + m.length, 0);
  t.deepEqual(delta.pieces, [
    { kind: 'copy', object: 'base', offset: 0, length: sizeOf(base, 0, 10) },
    { kind: 'send', offset: sizeOf(next, 0, 10), length: next[10]?.length ?? 0 },
    { kind: 'copy', object: 'base', offset: sizeOf(base, 0, 11), length: sizeOf(base, 11, 30) },
  ]);
  t.is(delta.sendBytes, next[10]?.length ?? -1);
});

import { createHash } from 'node:crypto';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { MemberIndexes } from '../../src/pack/member-index.ts';
import { MemberStore } from '../../src/pack/member-store.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/* The member store hands back exactly the bytes it was given, or fails: never a damaged member. */

test('a stored member reads back as stored; a damaged store is refused, not copied on', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const file = path.join(temp.path, 'members.bin');
  const store = await MemberStore.create(file);
  t.teardown(() => store.close());
  const first = Buffer.from('first member '.repeat(1000));
  const second = Buffer.from('second member '.repeat(3000));
  t.is(await store.obtain('a', () => Promise.resolve(first)), first);
  await store.add('b', second);
  t.true(store.has('b'));
  t.deepEqual(await store.get('a'), first);
  t.deepEqual(await store.get('b', Buffer.alloc(64 * 1024)), second);
  t.is(await store.get('c'), undefined);

  const handle = await open(file, 'r+');
  await handle.write(Buffer.from('X'), 0, 1, first.length + 100);
  await handle.close();
  await t.throwsAsync(() => store.get('b'), { message: /b reads back other bytes than were stored/ });
  t.deepEqual(await store.get('a'), first, 'the other member is still good');
});

test("an earlier image's members are served from its file; a changed or missing member is not, and the store compresses it again", async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const one = Buffer.from('member one '.repeat(500));
  const two = Buffer.from('member two '.repeat(700));
  const image = path.join(temp.path, 'earlier.img.gz');
  await writeFile(image, Buffer.concat([one, two]));
  const entry = (chunk: string, member: Buffer, offset: number) => ({
    chunk,
    offset,
    length: member.length,
    sha256: createHash('sha256').update(member).digest('hex'),
  });
  const store = await MemberStore.create(path.join(temp.path, 'members.bin'));
  t.teardown(() => store.close());
  await store.adopt(image, [
    entry('one', one, 0),
    entry('two', two, one.length),
    entry('gone', one, 10 ** 9),
  ]);
  t.true(store.isAdopted('one'));
  t.deepEqual(await store.get('one'), one);

  // The file changes after it was adopted (a user edits an image): its members are not used.
  const handle = await open(image, 'r+');
  await handle.write(Buffer.from('X'), 0, 1, one.length + 5);
  await handle.close();
  t.is(await store.get('two'), undefined, 'a changed member is not served');
  t.is(await store.get('gone'), undefined, 'a member past the end of the file is not served');
  t.false(store.has('two'));
  const made = Buffer.from('compressed again');
  t.is(await store.obtain('two', () => Promise.resolve(made)), made);
  t.deepEqual(await store.get('two'), made, 'now served from the store itself');
});

test('member indexes: written and read back; a damaged index, or one made by another zlib, counts as none', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const indexes = MemberIndexes.in(temp.path);
  const sha = 'a'.repeat(64);
  const members = [{ chunk: 'c'.repeat(64), offset: 0, length: 10, sha256: 'd'.repeat(64) }];
  await indexes.write(sha, members);
  t.deepEqual(await indexes.read(sha), members);
  t.deepEqual(await indexes.read('b'.repeat(64)), []);

  const file = path.join(indexes.dir, `${sha}.json`);
  const written = JSON.parse(await readFile(file, 'utf8')) as { zlib: string };
  await writeFile(file, JSON.stringify({ ...written, zlib: '0.0.1' }));
  t.deepEqual(await indexes.read(sha), [], 'members of another zlib may have other bytes');
  await writeFile(file, '{"schema":1,');
  t.deepEqual(await indexes.read(sha), []);

  await indexes.write('e'.repeat(64), members);
  await writeFile(path.join(indexes.dir, `${sha}.json.tmp-123`), '');
  await indexes.pruneExcept(['e'.repeat(64)]);
  t.deepEqual(await readdir(indexes.dir), [`${'e'.repeat(64)}.json`]);
});

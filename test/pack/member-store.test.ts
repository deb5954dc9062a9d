import { open } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
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

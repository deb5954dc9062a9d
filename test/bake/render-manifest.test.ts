import test from 'ava';
import {
  renderManifest,
  type Manifest,
  type ManifestFile,
  type PartitionRecord,
} from '../../src/bake/manifest.ts';

function manifestFilledInOrder(order: 'forward' | 'backward'): Manifest {
  const pick = <T>(entries: readonly T[]): T[] =>
    order === 'forward' ? [...entries] : [...entries].reverse();
  return {
    schema: 1,
    host: 'pi0',
    recipe: 'router',
    version: 'pi0-0123456789ab',
    inputKey: '0123456789abcdef',
    inputs: {
      cleanImage: { name: 'pi-img', id: 'abc' },
      labEntry: 'def',
      recipe: 'fed',
      overlays: Object.fromEntries(pick([['ssh-hardening', '1'] as const, ['router', '2'] as const])),
      tools: Object.fromEntries(pick([['partclone', '0.3.23'] as const, ['mtools', '4.0.33'] as const])),
      pipeline: '7',
    },
    partitions: Object.fromEntries(
      pick<[string, PartitionRecord]>([
        ['sda1', { action: 'rebaked', files: ['b'] }],
        ['sda2', { action: 'reused', files: ['a'] }],
      ]),
    ),
    written: { sda2: Object.fromEntries(pick([['/etc/b', 'x'] as const, ['/etc/a', 'y'] as const])) },
    files: Object.fromEntries(
      pick<[string, ManifestFile]>([
        ['sda2.img', { sha256: 'a', size: 1 }] as const,
        ['parts', { sha256: 'b', size: 2 }],
      ]),
    ),
  };
}

test('the same manifest renders to the same bytes whatever order its maps were filled in', (t) => {
  const forward = renderManifest(manifestFilledInOrder('forward'));
  t.is(renderManifest(manifestFilledInOrder('backward')), forward);
  const parsed = JSON.parse(forward) as Manifest;
  t.deepEqual(Object.keys(parsed), [
    'schema',
    'host',
    'recipe',
    'version',
    'inputKey',
    'inputs',
    'partitions',
    'written',
    'files',
  ]);
  t.deepEqual(Object.keys(parsed.inputs.tools), ['mtools', 'partclone']);
  t.deepEqual(parsed.partitions['sda2']?.files, ['a'], 'arrays keep their order');
});

import test from 'ava';
import { describeError } from '../../src/errors.ts';
import { ContractError } from '../../src/image/contract-json.ts';
import {
  type Manifest,
  type ManifestFile,
  parseManifest,
  type PartitionRecord,
  renderManifest,
} from '../../src/image/manifest.ts';
import { IMAGE_MARKER_PATH, parseMarker, renderMarker } from '../../src/image/marker.ts';

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

const valid = (): Manifest => {
  const manifest = manifestFilledInOrder('forward');
  return {
    ...manifest,
    files: Object.fromEntries(
      Object.entries(manifest.files).map(([name, file]) => [
        name,
        { ...file, sha256: file.sha256.repeat(64) },
      ]),
    ),
  };
};

test('a rendered manifest parses back to itself', (t) => {
  t.deepEqual(parseManifest(renderManifest(valid()), 'images/pi0/pi-lab-manifest.json'), valid());
});

test('a manifest that is not JSON is refused with its path and what to do', (t) => {
  const error = t.throws(() =>
    parseManifest('{"schema": 1, "host": "pi0"', '/share/pi0/pi-lab-manifest.json'),
  );
  t.true(error instanceof ContractError);
  t.regex(error.message, /^\/share\/pi0\/pi-lab-manifest\.json is not a pi-lab manifest: it is not JSON/);
  t.regex(error.message, /What to do: bake the host again/);
});

test('a manifest of another schema is refused, naming both schemas', (t) => {
  const text = renderManifest(valid()).replace('"schema": 1', '"schema": 2');
  const error = t.throws(() => parseManifest(text, 'images/pi0/pi-lab-manifest.json'));
  t.regex(error.message, /is a pi-lab manifest of schema 2; this pi-lab reads schema 1/);
});

test('a damaged manifest is refused, naming the fields that are wrong', (t) => {
  const damaged = JSON.parse(renderManifest(valid())) as Record<string, unknown>;
  delete damaged['version'];
  const files = damaged['files'] as Record<string, unknown>;
  files['parts'] = { sha256: 'b'.repeat(64), size: -2 };
  const error = t.throws(() => parseManifest(JSON.stringify(damaged), 'images/pi0/pi-lab-manifest.json'));
  if (!(error instanceof ContractError)) return t.fail('not a ContractError');
  const details = error.details.join('\n');
  t.regex(details, /^version: /m);
  t.regex(details, /^files\.parts\.size: /m);
  t.regex(describeError(error), /images\/pi0\/pi-lab-manifest\.json is not a valid pi-lab manifest/);
});

test('the image marker: rendered, parsed back, and refused when it is not one', (t) => {
  const marker = { host: 'pi1', version: 'pi1-0123456789ab', inputKey: 'f'.repeat(64) };
  t.deepEqual(parseMarker(renderMarker(marker), IMAGE_MARKER_PATH), marker);
  t.throws(() => parseMarker('{"host": "pi1"}', '/boot/firmware/pi-lab-image.json'), {
    instanceOf: ContractError,
    message: /\/boot\/firmware\/pi-lab-image\.json is not a valid pi-lab image marker/,
  });
  t.throws(() => parseMarker('', IMAGE_MARKER_PATH), { message: /is not JSON/ });
});

import test from 'ava';
import { canonicalJson, digestOf, sha256 } from '../../src/bake/digest.ts';

test('buffers of equal length but different bytes digest differently; equal buffers alike', (t) => {
  const content = Buffer.from('dtoverlay=disable-wifi\n');
  const sameBytes = Buffer.from('dtoverlay=disable-wifi\n');
  const oneByteOff = Buffer.from('dtoverlay=disable-wifI\n');
  t.is(digestOf({ path: '/config.txt', content: sameBytes }), digestOf({ path: '/config.txt', content }));
  t.not(digestOf({ path: '/config.txt', content: oneByteOff }), digestOf({ path: '/config.txt', content }));
  t.not(digestOf([oneByteOff]), digestOf([content]));
});

test('a buffer goes in as its sha256, not byte by byte', (t) => {
  const firmware = Buffer.alloc(64, 7);
  t.is(canonicalJson({ content: firmware }), `{"content":{"sha256":"${sha256(firmware)}"}}`);
  t.is(canonicalJson(firmware), `{"sha256":"${sha256(firmware)}"}`);
});

test('keys are sorted at every depth; arrays keep their order', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
});

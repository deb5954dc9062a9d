import test from 'ava';
import { execa } from 'execa';
import { canonicalJson, digestOf, sha256 } from '../../src/bake/digest.ts';
import { PROJECT_DIR } from '../helpers/bake-cli.ts';

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

test('the digest is the same whatever the locale (Estonian sorts "sz" before "st")', async (t) => {
  const script = `import { canonicalJson } from './src/bake/digest.ts';
    process.stdout.write(canonicalJson({ st: 1, sz: 2, ta: 3 }));`;
  const inLocale = async (lang: string) =>
    (
      await execa('node', ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: PROJECT_DIR,
        env: { LANG: lang, LC_ALL: lang },
      })
    ).stdout;
  const estonian = await inLocale('et_EE.UTF-8');
  t.is(estonian, '{"st":1,"sz":2,"ta":3}');
  t.is(estonian, await inLocale('C.UTF-8'));
});

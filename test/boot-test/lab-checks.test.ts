import test from 'ava';
import { findLease } from '../../src/boot-test/lab-checks.ts';

const LEASES = [
  '1796413269 d8:3a:dd:f7:78:e0 10.87.0.101 pi1 01:d8:3a:dd:f7:78:e0',
  '1796413300 d8:3a:dd:00:00:02 10.87.0.57 pi2 01:d8:3a:dd:00:00:02',
].join('\n');

test('a lease is found by MAC, whatever its case', (t) => {
  t.is(findLease(LEASES, 'D8:3A:DD:F7:78:E0'), '10.87.0.101');
  t.is(findLease(LEASES, 'd8:3a:dd:00:00:02'), '10.87.0.57');
});

test('no lease for an unknown MAC or an empty file', (t) => {
  t.is(findLease(LEASES, 'd8:3a:dd:f7:77:d8'), undefined);
  t.is(findLease('', 'd8:3a:dd:f7:78:e0'), undefined);
});

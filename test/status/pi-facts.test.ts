import test from 'ava';
import { parseHostFacts } from '../../src/status/read-host-facts.ts';
import { bootloaderDate, decodeBootMode, decodeThrottled } from '../../src/values/pi-facts.ts';

test('get_throttled: what happens now and what happened since boot', (t) => {
  t.deepEqual(decodeThrottled('throttled=0x0'), { raw: '0x0', now: [], sinceBoot: [] });
  t.deepEqual(decodeThrottled('throttled=0x50005'), {
    raw: '0x50005',
    now: ['under-voltage', 'throttled'],
    sinceBoot: ['under-voltage', 'throttled'],
  });
  t.deepEqual(decodeThrottled('throttled=0x80000')?.sinceBoot, ['soft temperature limit']);
  t.is(decodeThrottled(''), undefined, 'no vcgencmd (not a Pi)');
});

test('boot mode from the device tree: USB disk, SD card, unknown', (t) => {
  t.is(decodeBootMode('   0   0   0   4\n'), 'USB disk');
  t.is(decodeBootMode('0 0 0 1'), 'SD card');
  t.is(decodeBootMode('0 0 0 9'), 'mode 9');
  t.is(decodeBootMode(''), undefined);
  t.is(bootloaderDate('2025/01/22 15:31:47'), '2025-01-22');
});

test('the facts script output: every field, and what a machine without vcgencmd gives', (t) => {
  const marker = Buffer.from('{"host":"pi1","version":"pi1-0123456789ab","inputKey":"k"}').toString('base64');
  t.deepEqual(
    parseHostFacts(
      [
        'hostname pi1',
        'uptime 93784.21',
        'bootloader 2025/01/22 15:31:47',
        'throttled throttled=0x50000',
        'bootmode    0   0   0   4',
        `marker ${marker}`,
      ].join('\n'),
    ),
    {
      hostname: 'pi1',
      uptimeSeconds: 93784,
      bootloader: '2025-01-22',
      bootMode: 'USB disk',
      throttled: { raw: '0x50000', now: [], sinceBoot: ['under-voltage', 'throttled'] },
      marker: { host: 'pi1', version: 'pi1-0123456789ab', inputKey: 'k' },
    },
  );
  t.deepEqual(
    parseHostFacts('hostname imager1\nuptime 12.5\nbootloader \nthrottled \nbootmode \nmarker \n'),
    {
      hostname: 'imager1',
      uptimeSeconds: 13,
    },
  );
});

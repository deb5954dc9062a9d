import path from 'node:path';
import test from 'ava';
import { ToolError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { runCommand, runPipeline } from '../../src/exec/run-command.ts';
import { runDebugfsRequests } from '../../src/tools/debugfs.ts';
import { readFatFile, readFatFilesInto } from '../../src/tools/mtools.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/** `<program> failed (<status>) after <seconds> s`, the seconds as a number. */
function secondsIn(message: string, program: string, status: string): number {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escape(program)} failed \\(${escape(status)}\\) after (\\d+\\.\\d) s`).exec(
    message,
  );
  if (!match?.[1]) throw new Error(`not a "${program} failed (${status}) after N.N s" message: ${message}`);
  return Number(match[1]);
}

test('mcopy on an image that does not exist is named as mcopy, not by its environment, with its duration', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const missing = path.join(temp.path, 'missing.img');

  const bytes = await t.throwsAsync(readFatFile(missing, '/config.txt'), { instanceOf: ToolError });
  secondsIn(bytes.message, 'mcopy', 'exit 1');
  t.regex(bytes.command, /^MTOOLS_SKIP_CHECK=1 .* mcopy -n -i /);
  t.regex(bytes.outputTail, /missing\.img/);

  const text = await t.throwsAsync(readFatFilesInto(missing, ['/config.txt'], temp.path), {
    instanceOf: ToolError,
  });
  secondsIn(text.message, 'mcopy', 'exit 1');
});

test('debugfs run with a pinned time is named as debugfs, with its duration', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const failed = await t.throwsAsync(
    runCommand(command('debugfs', ['-Z'], { env: { E2FSPROGS_FAKE_TIME: '1' } })),
    { instanceOf: ToolError },
  );
  secondsIn(failed.message, 'debugfs', 'exit 1');

  const missing = path.join(temp.path, 'missing.img');
  const requests = await t.throwsAsync(
    runDebugfsRequests(missing, ['stat /'], { writable: false, workDir: temp.path, env: { fakeTime: 1 } }),
    { instanceOf: ToolError },
  );
  t.regex(requests.message, /^debugfs could not apply \d+ request\(s\) to .*missing\.img after \d+\.\d s$/);
});

test('the duration is how long the tool ran', async (t) => {
  const failed = await t.throwsAsync(runCommand(command('sh', ['-c', 'sleep 0.4; exit 3'])), {
    instanceOf: ToolError,
  });
  t.true(secondsIn(failed.message, 'sh', 'exit 3') >= 0.4, failed.message);
});

test('a pipeline stage with an environment is named by its program', async (t) => {
  const failed = await t.throwsAsync(
    runPipeline([
      command('sh', ['-c', 'exit 0']),
      command('sh', ['-c', 'cat >/dev/null; exit 5'], { env: { LC_ALL: 'C' } }),
    ]),
    { instanceOf: ToolError },
  );
  secondsIn(failed.message, 'sh', 'exit 5');
  t.regex(failed.message, / in sh -c 'exit 0' \| LC_ALL=C sh -c /);
});

test('a tool that is not installed says so, without a duration', async (t) => {
  const failed = await t.throwsAsync(
    runCommand(command('pi-lab-no-such-tool', [], { env: { MTOOLS_SKIP_CHECK: '1' } })),
    { instanceOf: ToolError },
  );
  t.is(failed.message, 'pi-lab-no-such-tool failed (not found)');
});

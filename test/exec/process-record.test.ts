import test from 'ava';
import { command } from '../../src/exec/command.ts';
import { recordProcesses } from '../../src/exec/process-record.ts';
import { runCommand, runPipeline } from '../../src/exec/run-command.ts';

test('every process started inside the work is listed in order, pipeline stages included', async (t) => {
  const { result, started } = await recordProcesses(async () => {
    await runCommand(command('true', []));
    await runPipeline([command('echo', ['x']), command('cat', [])]);
    return 'done';
  });
  t.is(result, 'done');
  t.deepEqual(
    started.map((cmd) => cmd.program),
    ['true', 'echo', 'cat'],
  );
});

test('work running side by side is recorded apart', async (t) => {
  const [a, b] = await Promise.all([
    recordProcesses(() => runCommand(command('sh', ['-c', 'sleep 0.1; echo a']))),
    recordProcesses(() => runCommand(command('echo', ['b']))),
  ]);
  t.deepEqual(
    a.started.map((cmd) => cmd.args.at(-1)),
    ['sleep 0.1; echo a'],
  );
  t.deepEqual(
    b.started.map((cmd) => cmd.args.at(-1)),
    ['b'],
  );
  t.deepEqual(
    (await recordProcesses(() => Promise.resolve(1))).started,
    [],
    'nothing started, nothing listed',
  );
});

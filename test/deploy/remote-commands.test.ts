import test from 'ava';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { asRoot } from '../../src/deploy/remote-commands.ts';
import { renderRemoteCommand } from '../../src/ssh/remote-exec.ts';

const probe = command('sh', ['-c', 'printf "%s in %s" "$PI_LAB_PROBE" "$PWD"'], {
  env: { PI_LAB_PROBE: 'kept' },
  cwd: '/tmp',
});

test('asRoot keeps the environment and working directory of the command it wraps', (t) => {
  t.is(
    renderRemoteCommand(asRoot('pi', probe)),
    `cd /tmp && sudo -n env PI_LAB_PROBE=kept sh -c 'printf "%s in %s" "$PI_LAB_PROBE" "$PWD"'`,
  );
  t.is(asRoot('root', probe), probe);
});

test('what sudo is asked to run gets the environment', async (t) => {
  const wrapped = asRoot('pi', probe);
  t.is(wrapped.program, 'sudo');
  t.is(wrapped.args[0], '-n');
  // sudo itself is not installed here; run what it would execute, from where it would start.
  const [program = '', ...args] = wrapped.args.slice(1);
  const { stdout } = await runCommand(command(program, args, { cwd: wrapped.cwd }));
  t.is(stdout, 'kept in /tmp');
});

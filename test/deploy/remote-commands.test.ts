import test from 'ava';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { sudoCommand } from '../../src/ssh/root-shell.ts';
import { renderRemoteCommand } from '../../src/ssh/remote-exec.ts';

const probe = command('sh', ['-c', 'printf "%s in %s" "$PI_LAB_PROBE" "$PWD"'], {
  env: { PI_LAB_PROBE: 'kept' },
  cwd: '/tmp',
});

test('sudoCommand keeps the environment and working directory of the command it wraps', (t) => {
  t.is(
    renderRemoteCommand(sudoCommand(probe, { kind: 'sudo' })),
    `cd /tmp && sudo -n env PI_LAB_PROBE=kept sh -c 'printf "%s in %s" "$PI_LAB_PROBE" "$PWD"'`,
  );
  const withPassword = renderRemoteCommand(
    sudoCommand(probe, { kind: 'sudo-password', password: 'hunter2' }),
  );
  t.is(
    withPassword,
    `cd /tmp && sudo -k -S -p '' env PI_LAB_PROBE=kept sh -c 'printf "%s in %s" "$PI_LAB_PROBE" "$PWD"'`,
  );
  t.false(withPassword.includes('hunter2'), 'the password goes on standard input, never on the command line');
  t.is(sudoCommand(probe, { kind: 'login' }), probe);
});

test('what sudo is asked to run gets the environment', async (t) => {
  const wrapped = sudoCommand(probe, { kind: 'sudo' });
  t.is(wrapped.program, 'sudo');
  // The real sudo, run by root here (the non-root paths: test/ssh/root-shell.test.ts).
  const { stdout } = await runCommand(wrapped);
  t.is(stdout, 'kept in /tmp');
});

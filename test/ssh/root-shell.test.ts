import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { connectSsh } from '../../src/ssh/connect-ssh.ts';
import { type RootShell, rootShell } from '../../src/ssh/root-shell.ts';
import {
  NO_SUDO_PASSWORD,
  SUDO_PASSWORD_VARIABLE,
  type SudoPassword,
  sudoPasswordFrom,
} from '../../src/ssh/sudo-password.ts';
import { type LoginUser, loginUserBinds } from '../helpers/login-user.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { startLoopbackServer } from './loopback-server.ts';

/*
 * Root on a host where the login user is not root, against a real sshd and the real sudo and PAM:
 * the user `pi` lives in copies of /etc bound over the real ones in the server's mount namespace.
 */

const rootTest = skipUnlessRoot(test);
const PASSWORD = 'correct horse; "battery" $staple';
const INPUT = 'first line of the command’s own input\nsecond\n';

async function asLoginUser(
  sudo: LoginUser['sudo'],
  work: (open: (password: SudoPassword) => RootShell, where: string) => Promise<void>,
): Promise<void> {
  const etc = await makeTempDir();
  try {
    const binds = await loginUserBinds(etc.path, { name: 'pi', password: PASSWORD, sudo });
    const setup = [...binds, 'exec "$@"'].join('\n');
    const lab = await startLoopbackServer({
      launcher: (program, args) => ({
        program: 'unshare',
        args: ['--mount', '--propagation', 'private', 'sh', '-c', setup, 'pi-host', program, ...args],
      }),
    });
    try {
      const session = await connectSsh({ ...lab.endpoint, user: 'pi' }, lab.settings);
      try {
        await work((password) => rootShell(session, password), session.describe());
      } finally {
        await session.close();
      }
    } finally {
      await lab.release();
    }
  } finally {
    await etc.remove();
  }
}

/** A password source that counts how often it is asked. */
function counting(password: string): SudoPassword & { asked: number } {
  const source = {
    source: 'the test',
    asked: 0,
    get: () => {
      source.asked++;
      return Promise.resolve(password);
    },
  };
  return source;
}

rootTest(
  'sudo with a password: commands run as root, fed the password on stdin, their own input intact',
  async (t) => {
    await asLoginUser('password', async (open) => {
      const password = counting(PASSWORD);
      const root = open(password);
      t.is((await root.run(command('id', ['-u']))).stdout, '0\n');
      // -k: sudo asks every time, so the password line is always sudo's and never the command's input.
      for (let i = 0; i < 2; i++) t.is((await root.run(command('cat', []), { stdin: INPUT })).stdout, INPUT);
      t.is((await root.run(command('cat', []))).stdout, '', 'no input given: the command reads none');
      t.is(password.asked, 1, 'asked once per host, checked once before any command got it');
      const ps = await root.run(command('ps', ['-eo', 'args']));
      t.false(ps.stdout.includes(PASSWORD), 'never on a command line');
    });
  },
);

rootTest(
  'a wrong password, or none given: a clear refusal naming the host, before any command runs',
  async (t) => {
    await asLoginUser('password', async (open, where) => {
      const wrong = await sudoPasswordFrom({ env: { [SUDO_PASSWORD_VARIABLE]: 'not it' } });
      const refused = await t.throwsAsync(
        open(wrong).run(command('touch', ['/run/pi-lab-root-shell-test'])),
        {
          instanceOf: UserError,
        },
      );
      t.is(refused.message, `${where}: sudo refused the password from ${SUDO_PASSWORD_VARIABLE}.`);
      t.false(refused.message.includes('not it'));

      const none = await t.throwsAsync(open(NO_SUDO_PASSWORD).run(command('id', ['-u'])), {
        instanceOf: UserError,
      });
      t.is(none.message, `sudo on ${where} asks for a password, and none was given.`);
      t.regex(none.details.join('\n'), /PI_LAB_SUDO_PASSWORD.*--sudo-password-file/);
    });
  },
);

rootTest('sudo without a password (NOPASSWD): sudo -n, and the password is never asked for', async (t) => {
  await asLoginUser('nopasswd', async (open) => {
    const password = counting(PASSWORD);
    const root = open(password);
    t.is((await root.run(command('id', ['-u']))).stdout, '0\n');
    t.is((await root.run(command('cat', []), { stdin: INPUT })).stdout, INPUT);
    t.is(password.asked, 0);
  });
});

rootTest('a user sudo does not know: the refusal says so and what to do', async (t) => {
  await asLoginUser('none', async (open, where) => {
    const password = counting(PASSWORD);
    const error = await t.throwsAsync(open(password).run(command('id', ['-u'])), { instanceOf: UserError });
    t.true(
      error.message.startsWith(`${where}: sudo does not let pi become root (sudo said: `),
      error.message,
    );
    t.regex(error.message, /pi is not in the sudoers file/);
  });
});

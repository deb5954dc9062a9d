import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { SUDO_PASSWORD_VARIABLE, sudoPasswordFrom } from '../../src/ssh/sudo-password.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

test('a password file: read at once, its first line; refused when others can read it, missing or empty', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const file = path.join(temp.path, 'sudo-password');
  await writeFile(file, 'from the file\nsecond line\n');
  await chmod(file, 0o600);
  const fromFile = await sudoPasswordFrom({ file, env: { [SUDO_PASSWORD_VARIABLE]: 'from env' } });
  t.is(await fromFile.get('pi1'), 'from the file', 'the option wins over the variable');
  t.is(fromFile.source, `the file ${file}`);

  await chmod(file, 0o644);
  const open = await t.throwsAsync(sudoPasswordFrom({ file }), { instanceOf: UserError });
  t.is(open.message, `the sudo password file ${file} can be read by others (mode 644)`);
  t.deepEqual(open.details, [`make it yours alone: chmod 600 ${file}`]);

  const missing = path.join(temp.path, 'none');
  const gone = await t.throwsAsync(sudoPasswordFrom({ file: missing }), { instanceOf: UserError });
  t.is(gone.message, `cannot read the sudo password file ${missing}: ENOENT`);

  await writeFile(file, '\n');
  await chmod(file, 0o600);
  await t.throwsAsync(sudoPasswordFrom({ file }), { message: `the sudo password file ${file} is empty` });
});

test('the variable, else one question at the terminal for every host, else a message with the ways to give it', async (t) => {
  const fromEnv = await sudoPasswordFrom({ env: { [SUDO_PASSWORD_VARIABLE]: 's3cret' } });
  t.is(await fromEnv.get('pi1'), 's3cret');
  t.is(fromEnv.source, SUDO_PASSWORD_VARIABLE);

  const questions: string[] = [];
  const asked = await sudoPasswordFrom({
    env: {},
    ask: (question) => {
      questions.push(question);
      return Promise.resolve('typed');
    },
  });
  t.deepEqual(await Promise.all(['pi1', 'pi2', 'pi3'].map((host) => asked.get(host))), [
    'typed',
    'typed',
    'typed',
  ]);
  t.deepEqual(questions, ['sudo password for the lab (pi1 asks for it): ']);

  const nobody = await sudoPasswordFrom({ env: {} });
  const error = await t.throwsAsync(nobody.get('pi@10.0.0.11'), { instanceOf: UserError });
  t.is(error.message, 'sudo on pi@10.0.0.11 asks for a password, and none was given.');
});

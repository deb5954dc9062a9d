import test from 'ava';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { refuseIfMountedUnder } from '../../src/sample-os/sample-os-cache.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

skipUnlessRoot(test)('a killed build with mounts left under it is not removed through them', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const build = path.join(temp.path, 'firstrun-0123.building-99999');
  const proc = path.join(build, 'root/proc');
  await mkdir(proc, { recursive: true });
  await t.notThrowsAsync(refuseIfMountedUnder(build));
  await runCommand(command('mount', ['-t', 'tmpfs', 'leftover', proc]));
  t.teardown(() => runCommand(command('umount', ['-l', proc])).then(() => undefined));
  const error = await t.throwsAsync(refuseIfMountedUnder(build), { instanceOf: UserError });
  t.regex(error.message, /still has 1 mounts under it/);
  t.regex(error.details.join('\n'), /umount -l/);
});

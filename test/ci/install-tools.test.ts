import { chmod, copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * The README's first command starts with scripts/install-tools.sh: it must work as root on a machine
 * without sudo and for a user who has sudo. The script is run as root and as `nobody`, with a PATH that
 * holds no sudo (CI installs the real one for the deploy tests), or a recording sudo double.
 */

const SCRIPT = path.resolve('scripts/install-tools.sh');
const MISSING_PACKAGE = 'pi-lab-test-no-such-package';
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const rootOnly = skipUnlessRoot(test);

async function scriptCopy(): Promise<{ dir: string; script: string; remove(): Promise<void> }> {
  const temp = await makeTempDir();
  await chmod(temp.path, 0o755);
  const script = path.join(temp.path, 'install-tools.sh');
  await copyFile(SCRIPT, script);
  await chmod(script, 0o755);
  return { dir: temp.path, script, remove: () => temp.remove() };
}

/** A PATH directory holding only `tools` (linked from the system), so `missing` cannot be found. */
async function pathWithout(missing: string, dir: string, tools: string[]): Promise<string> {
  const bin = path.join(dir, `bin-without-${missing}`);
  await mkdir(bin);
  await chmod(bin, 0o755);
  for (const tool of tools) {
    const found = await execa('bash', ['-c', `command -v ${tool}`], { env: { PATH: SYSTEM_PATH } });
    await symlink(found.stdout.trim(), path.join(bin, tool));
  }
  return bin;
}

function asNobody(command: string[], env: Record<string, string>) {
  return execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...command], {
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
}

rootOnly('install-tools: as root, installed tools are reported and nothing runs', async (t) => {
  const result = await execa('bash', [SCRIPT], {
    env: { PATH: SYSTEM_PATH },
    extendEnv: false,
    reject: false,
  });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /^Tools: all 12 packages are installed\.$/m);
});

rootOnly('install-tools: as root, apt-get is run directly (no sudo needed)', async (t) => {
  const result = await execa('bash', [SCRIPT, MISSING_PACKAGE], {
    env: { PATH: SYSTEM_PATH },
    extendEnv: false,
    reject: false,
    all: true,
  });
  // The package does not exist, so apt-get itself refuses it: that proves apt-get ran, as root.
  t.not(result.exitCode, 0);
  t.regex(result.all, new RegExp(`^Installing: ${MISSING_PACKAGE}$`, 'm'));
  t.regex(result.all, new RegExp(`Unable to locate package ${MISSING_PACKAGE}`));
  t.notRegex(result.all, /sudo/);
});

rootOnly('install-tools: a user without sudo is told that installing needs root', async (t) => {
  const copy = await scriptCopy();
  t.teardown(() => copy.remove());
  const bin = await pathWithout('sudo', copy.dir, ['setpriv', 'bash', 'dpkg-query', 'grep']);
  const result = await asNobody(['bash', copy.script, MISSING_PACKAGE], { PATH: bin });
  t.is(result.exitCode, 1);
  t.regex(result.stderr, new RegExp(`Missing packages: ${MISSING_PACKAGE}`));
  t.regex(result.stderr, /needs root: run this as root, or install sudo/);
});

rootOnly('install-tools: a user with sudo installs through it, non-interactively', async (t) => {
  const copy = await scriptCopy();
  t.teardown(() => copy.remove());
  const bin = path.join(copy.dir, 'bin');
  await mkdir(bin);
  await chmod(bin, 0o755);
  const calls = path.join(copy.dir, 'sudo-calls');
  await writeFile(calls, '');
  await chmod(calls, 0o666);
  // Test double for sudo: the real one would install for real. It records its arguments and runs nothing.
  await writeFile(path.join(bin, 'sudo'), `#!/bin/sh\necho "$*" >> ${calls}\n`);
  await chmod(path.join(bin, 'sudo'), 0o755);

  const result = await asNobody(['bash', copy.script, MISSING_PACKAGE], { PATH: `${bin}:${SYSTEM_PATH}` });
  t.is(result.exitCode, 0, result.stderr);
  t.deepEqual((await readFile(calls, 'utf8')).trim().split('\n'), [
    'apt-get update',
    `env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${MISSING_PACKAGE}`,
  ]);
});

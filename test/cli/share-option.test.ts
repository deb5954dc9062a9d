import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { resolveShareOption } from '../../src/cli/share-options.ts';
import { UserError } from '../../src/errors.ts';
import { parseLab } from '../../src/lab/load-lab.ts';
import { cliOutput, PROJECT_DIR, runScriptCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/** The share option is --to for publish, --share for images and rollback: a message names the one given. */

const BAD_SHARE = 'sftp://pi@/srv/os_images';

async function labTextWithoutShare(): Promise<string> {
  const lab = parse(await readFile(SAMPLE_LAB_FILE, 'utf8')) as Record<string, unknown>;
  delete lab['share'];
  return stringify(lab);
}

const withoutShare = parseLab(await labTextWithoutShare(), SAMPLE_LAB_FILE, { projectDir: PROJECT_DIR });

test('images names --share when the share given there is malformed', async (t) => {
  const result = await runScriptCli('images', ['--share', BAD_SHARE]);
  t.is(result.exitCode, 2, cliOutput(result));
  t.true(result.stderr.includes(`--share ${BAD_SHARE} is neither a directory`), cliOutput(result));
  t.false(result.stderr.includes('--to'), cliOutput(result));
});

test('rollback names --share when the share given there is malformed', async (t) => {
  const result = await runScriptCli('rollback', ['pi1', '--share', BAD_SHARE]);
  t.is(result.exitCode, 2, cliOutput(result));
  t.true(result.stderr.includes(`--share ${BAD_SHARE} is neither a directory`), cliOutput(result));
  t.false(result.stderr.includes('--to'), cliOutput(result));
});

test('rollback without a share anywhere says to pass --share', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const labFile = path.join(temp.path, 'lab.yaml');
  await writeFile(labFile, await labTextWithoutShare());
  const result = await runScriptCli('rollback', ['pi1', '--lab', labFile]);
  t.is(result.exitCode, 2, cliOutput(result));
  t.true(
    result.stderr.includes('rollback needs a share: pass --share, or add share.target to'),
    cliOutput(result),
  );
});

test('publish names --to, its own flag', (t) => {
  const error = t.throws(
    () => resolveShareOption({ flag: '--to', value: BAD_SHARE }, withoutShare, 'publish'),
    {
      instanceOf: UserError,
    },
  );
  t.is(error.message, `--to ${BAD_SHARE} is neither a directory nor sftp://[user@]host[:port]/path.`);
  const missing = t.throws(
    () => resolveShareOption({ flag: '--to', value: undefined }, withoutShare, 'publish'),
    {
      instanceOf: UserError,
    },
  );
  t.regex(missing.message, /^publish needs a share: pass --to, or add share\.target to /);
});

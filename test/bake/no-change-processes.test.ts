import path from 'node:path';
import test from 'ava';
import { SILENT_REPORTER } from '../../src/bake/bake-events.ts';
import { runBake } from '../../src/bake/run-bake.ts';
import { formatCommand } from '../../src/exec/command.ts';
import { recordProcesses } from '../../src/exec/process-record.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import { PROJECT_DIR, SAMPLE_LAB_FILE, TEST_SOURCE_DATE_EPOCH } from '../helpers/bake-cli.ts';
import { bakeSampleLab } from '../helpers/baked-images.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * What a re-bake with nothing to do runs, recorded in-process (the real tools run; nothing stands
 * in for them): it reads tool versions and checks files, but restores, clones, compresses and edits
 * nothing, and it writes no partition image.
 */

const temps: TempDir[] = [];
test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

/** Tools that restore, clone, compress or edit a file system. */
const WORKING = /^(partclone\.(?!chkimg)|pigz$|gzip$|zstd$|xz$|mcopy$|mmd$|mdel$|debugfs$|mkfs|sfdisk$|dd$)/;

test('a re-bake with nothing to do starts no partclone, compressor, mtools or debugfs', async (t) => {
  const temp = await makeTempDir();
  temps.push(temp);
  const baked = await bakeSampleLab(temp.path);
  const lab = await loadLab(SAMPLE_LAB_FILE, { projectDir: PROJECT_DIR });
  const { result, started } = await recordProcesses(() =>
    runBake({
      lab,
      projectDir: PROJECT_DIR,
      hosts: [],
      cleanDir: baked.cleanDir,
      outDir: baked.imagesDir,
      dryRun: false,
      reporter: SILENT_REPORTER,
      pinnedTime: Number(TEST_SOURCE_DATE_EPOCH),
    }),
  );
  t.true(result.ok);
  t.deepEqual(
    result.outcomes.map((outcome) => outcome.status),
    result.outcomes.map(() => 'unchanged'),
  );
  const versionProbe = (args: readonly string[]) =>
    args.length === 1 && /^(-V|-v|--version)$/.test(args[0] ?? '');
  const working = started.filter(
    (cmd) => WORKING.test(path.basename(cmd.program)) && !versionProbe(cmd.args),
  );
  t.true(
    started.some((cmd) => versionProbe(cmd.args)),
    'the versions of the tools were read (they are part of the input key)',
  );
  t.deepEqual(working.map(formatCommand), []);
});

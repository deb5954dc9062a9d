import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import { pseudoRandomBytes } from '../../src/sample/pseudo-random-bytes.ts';
import {
  cliOutput,
  type CliResult,
  runBakeCli,
  runImportCli,
  SAMPLE_LAB_FILE,
  statusByHost,
} from '../helpers/bake-cli.ts';
import { bakeLeftovers, contentOf, makeProjectCopy, snapshotTree } from '../helpers/output-tree.ts';
import { checkAllPartitionImages } from '../helpers/partition-files.ts';
import { processesOf } from '../helpers/process-table.ts';
import { killGroup, runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * Ctrl-C during a bake: exit 130, the previous images exactly as they were, no staging or scratch
 * directories, no tool left running. The clean image is a sample disk with some tens of MB of
 * incompressible data, imported with `npm run import`, so that the bake takes long enough to be
 * interrupted in the middle. No root needed.
 */

const MIB = 1024 * 1024;
const temps: TempDir[] = [];

test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

interface Baseline {
  readonly cleanDir: string;
  readonly project: string;
  readonly outDir: string;
}

let baseline: Promise<Baseline> | undefined;

/** The large clean image, a project copy and a first good bake of pi0 and pi1, shared by the tests (read-only). */
function bakeBaseline(): Promise<Baseline> {
  baseline ??= (async () => {
    const temp = await makeTempDir();
    temps.push(temp);
    const bootExtra = path.join(temp.path, 'boot-extra');
    const rootExtra = path.join(temp.path, 'root-extra/opt/sample-data');
    await mkdir(bootExtra, { recursive: true });
    await mkdir(rootExtra, { recursive: true });
    await writeFile(path.join(bootExtra, 'big-boot.bin'), pseudoRandomBytes('interrupt-boot', 16 * MIB));
    await writeFile(path.join(rootExtra, 'big-root.bin'), pseudoRandomBytes('interrupt-root', 48 * MIB));
    const disk = await makeSampleDisk({
      path: path.join(temp.path, 'disk.img'),
      firstBoot: 'firstrun',
      bootExtraDir: bootExtra,
      rootExtraDir: path.join(temp.path, 'root-extra'),
    });
    const imported = await runImportCli([
      disk.path,
      '--name',
      'pi-img',
      '--out',
      path.join(temp.path, 'clean'),
    ]);
    if (imported.exitCode !== 0) throw new Error(`import failed: ${cliOutput(imported)}`);
    const project = await makeProjectCopy(path.join(temp.path, 'project'));
    const cleanDir = path.join(temp.path, 'clean/pi-img');
    const outDir = path.join(temp.path, 'images');
    const good = await runBakeCli(
      ['pi0', 'pi1', '--lab', SAMPLE_LAB_FILE, '--clean', cleanDir, '--out', outDir],
      {
        projectDir: project,
      },
    );
    if (good.exitCode !== 0) throw new Error(`first bake failed: ${cliOutput(good)}`);
    // From now on the common overlay differs, so both hosts are due for a re-bake.
    await appendFile(
      path.join(project, 'overlays/common/rootfs/etc/ssh/sshd_config.d/10-key-only.conf'),
      '# changed\n',
    );
    return { cleanDir, project, outDir };
  })();
  return baseline;
}

/** Bytes and modes of the host image dirs (not the bake's own dot files: cache, lock, scratch). */
async function hostImages(outDir: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    Object.entries(contentOf(await snapshotTree(outDir))).filter(([name]) => !name.startsWith('.')),
  );
}

type Trigger = (pid: number, stderr: () => string) => Promise<void>;

interface Interrupted {
  readonly result: CliResult;
  readonly outDir: string;
  readonly args: readonly string[];
  readonly before: Record<string, string>;
}

/** A bake of pi0 and pi1 into a copy of the baseline output, stopped by `trigger`. */
async function interruptedBake(trigger: Trigger): Promise<Interrupted> {
  const { cleanDir, project, outDir: baseOut } = await bakeBaseline();
  const temp = await makeTempDir();
  temps.push(temp);
  const outDir = path.join(temp.path, 'images');
  await runTool('cp', ['-a', baseOut, outDir]);
  const before = await hostImages(outDir);

  let stderr = '';
  let triggered: Promise<void> | undefined;
  const args = ['pi0', 'pi1', '--lab', SAMPLE_LAB_FILE, '--clean', cleanDir, '--out', outDir];
  const running = runBakeCli(args, {
    projectDir: project,
    onSpawn: (pid) => {
      triggered = trigger(pid, () => stderr);
    },
    onStderr: (text) => (stderr += text),
  });
  const result: CliResult = await running;
  await triggered;
  return { result, outDir, args, before };
}

async function interruptedBakeKeepsPrevious(t: ExecutionContext, trigger: Trigger): Promise<Interrupted> {
  const interrupted = await interruptedBake(trigger);
  const { result, outDir, before } = interrupted;
  const pid = result.pid;

  t.false(result.timedOut, cliOutput(result));
  t.is(result.exitCode, 130, cliOutput(result));
  t.regex(result.stderr, /Interrupted/);
  t.false(/: baked /.test(result.stderr), `no host finished baking after Ctrl-C:\n${result.stderr}`);
  t.deepEqual(await hostImages(outDir), before, 'previous images byte-identical');
  t.deepEqual(await bakeLeftovers(outDir), []);
  await sleep(200);
  const left = await processesOf(pid, path.dirname(outDir));
  t.deepEqual(
    left.map((p) => `${p.pid} ${p.command}`),
    [],
    'no partclone, debugfs or compressor left running',
  );
  return interrupted;
}

/** Re-running is always safe: the same bake, run again to the end, bakes both hosts and leaves nothing behind. */
async function rerunCompletes(t: ExecutionContext, { outDir, args }: Interrupted): Promise<void> {
  const { project } = await bakeBaseline();
  const again = await runBakeCli([...args, '--json'], { projectDir: project });
  t.is(again.exitCode, 0, cliOutput(again));
  t.deepEqual(statusByHost(again), { pi0: 'baked', pi1: 'baked' });
  t.deepEqual(await bakeLeftovers(outDir), []);
  for (const host of ['pi0', 'pi1']) {
    for (const checked of await checkAllPartitionImages(path.join(outDir, host), path.dirname(outDir))) {
      t.true(checked.ok, `${host} ${checked.files.join(' ')}: ${checked.report}`);
    }
  }
}

/** Polls until `found` holds or the bake has clearly ended; then sends the signal. */
async function when(found: () => Promise<boolean> | boolean, signal: () => void, pid: number): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  while (Date.now() < deadline) {
    if (await found()) {
      signal();
      return;
    }
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(5);
  }
}

test('SIGINT to the bake once it prints its first stage: exit 130, previous images intact, no leftovers', async (t) => {
  const interrupted = await interruptedBakeKeepsPrevious(t, (pid, stderr) =>
    when(
      () => /^pi[01]: (root filesystem|boot partition)$/m.test(stderr()),
      () => process.kill(pid, 'SIGINT'),
      pid,
    ),
  );
  await rerunCompletes(t, interrupted);
});

test('Ctrl-C (SIGINT to the process group) as the root filesystems are built: same guarantees', async (t) => {
  // Sent the moment the root filesystem stage is printed (its restore, edits and clone come next,
  // and no host can finish before them): a poll of the process table for partclone is too slow on
  // a loaded machine, which then signals after a host is done.
  await interruptedBakeKeepsPrevious(t, (pid, stderr) =>
    when(
      () => /: root filesystem$/m.test(stderr()),
      () => killGroup(pid, 'SIGINT'),
      pid,
    ),
  );
});

test('a bake killed with SIGKILL mid-way: previous images intact; the next bake cleans up and completes', async (t) => {
  const interrupted = await interruptedBake((pid, stderr) =>
    when(
      () => /: root filesystem$/m.test(stderr()),
      () => killGroup(pid, 'SIGKILL'),
      pid,
    ),
  );
  t.is(interrupted.result.signal, 'SIGKILL', cliOutput(interrupted.result));
  t.deepEqual(
    await hostImages(interrupted.outDir),
    interrupted.before,
    'previous images byte-identical: a host is swapped in by rename only',
  );
  await rerunCompletes(t, interrupted);
});

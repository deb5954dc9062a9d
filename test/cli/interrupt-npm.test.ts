import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import { pseudoRandomBytes } from '../../src/sample/pseudo-random-bytes.ts';
import { makeNpmProject, npmOutput, type NpmResult, type NpmRun, runNpm } from '../helpers/npm-project.ts';
import { bakeLeftovers, contentOf, snapshotTree } from '../helpers/output-tree.ts';
import { processesOf } from '../helpers/process-table.ts';
import { killGroup, runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * Ctrl-C and SIGTERM through `npm run`, the way users and CI launch the CLIs: npm runs a shell that
 * execs node, and a terminal's Ctrl-C reaches npm, node and every tool at once. The clean image's
 * root holds a few hundred MB, so a bake takes long enough to be stopped at many points spread over
 * it: whatever the moment, npm exits 130, stderr says what was left as it was, the previous images
 * are byte-identical (or a host reported baked is complete), and no temporary file, lock or tool is
 * left. Under a pseudo-terminal the cursor hidden by the live view is shown again. No root needed.
 */

const MIB = 1024 * 1024;
const ROOT_DATA_FILES = 4;
const ROOT_DATA_MIB_EACH = 64;
/** Interruption points spread over a re-bake, from 5 % to 95 % of its measured duration. */
const POINTS = 10;
const ATTEMPTS_PER_POINT = 5;
const DELIVERIES = [
  { signal: 'SIGINT', to: 'group' }, // Ctrl-C in a terminal: npm, node and the tools at once
  { signal: 'SIGTERM', to: 'npm' }, // a CI runner or `kill` stopping the job it started
  { signal: 'SIGTERM', to: 'group' },
  { signal: 'SIGINT', to: 'npm' },
] as const;
/** During the bake, or before it began (node starting, the lab file being read). */
const INTERRUPTED =
  /Interrupted \((SIGINT|SIGTERM)\): (every host keeps the image it had|no work was under way; nothing was changed)/;

const temps: TempDir[] = [];
test.after.always(async () => {
  for (const temp of temps) await temp.remove();
});

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

interface Baseline {
  readonly project: string;
  /** images/ after a good bake of pi0 and pi1; the common overlay has changed since, so both are due. */
  readonly images: string;
  readonly disk: string;
  /** Seconds a complete re-bake of both hosts took through npm. */
  readonly rebakeSeconds: number;
}

let baseline: Promise<Baseline> | undefined;

function bakeBaseline(): Promise<Baseline> {
  baseline ??= (async () => {
    const dir = await tempDir();
    const project = await makeNpmProject(path.join(dir, 'project'));
    const rootExtra = path.join(dir, 'root-extra');
    await mkdir(path.join(rootExtra, 'opt/sample-data'), { recursive: true });
    for (let i = 0; i < ROOT_DATA_FILES; i++)
      await writeFile(
        path.join(rootExtra, `opt/sample-data/data-${i}.bin`),
        pseudoRandomBytes(`npm-interrupt-${i}`, ROOT_DATA_MIB_EACH * MIB),
      );
    const disk = await makeSampleDisk({
      path: path.join(dir, 'disk.img'),
      firstBoot: 'firstrun',
      rootExtraDir: rootExtra,
      rootSizeMiB: ROOT_DATA_FILES * ROOT_DATA_MIB_EACH + 160,
    });
    const imported = await runNpm(project, ['-s', 'import', '--', disk.path, '--name', 'pi-img']).result;
    if (imported.exitCode !== 0) throw new Error(`import failed: ${npmOutput(imported)}`);
    const first = await runNpm(project, ['bake', '--', 'pi0', 'pi1']).result;
    if (first.exitCode !== 0) throw new Error(`first bake failed: ${npmOutput(first)}`);
    await appendFile(
      path.join(project, 'overlays/common/rootfs/etc/ssh/sshd_config.d/10-key-only.conf'),
      '# changed\n',
    );
    const images = path.join(project, 'images');
    const calibration = await outputCopy(images);
    const started = performance.now();
    const rebake = await runNpm(project, ['bake', '--', 'pi0', 'pi1', '--out', calibration]).result;
    const rebakeSeconds = (performance.now() - started) / 1000;
    if (rebake.exitCode !== 0) throw new Error(`re-bake failed: ${npmOutput(rebake)}`);
    return { project, images, disk: disk.path, rebakeSeconds };
  })();
  return baseline;
}

/** A copy of the baked output (host images and the bake's cache), without the clean image. */
async function outputCopy(images: string): Promise<string> {
  const out = path.join(await tempDir(), 'images');
  await mkdir(out);
  const entries = (await readdir(images)).filter((name) => name !== 'pi-img');
  await runTool('cp', ['-a', ...entries.map((name) => path.join(images, name)), out]);
  return out;
}

async function hostImages(outDir: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    Object.entries(contentOf(await snapshotTree(outDir))).filter(([name]) => !name.startsWith('.')),
  );
}

/** Hosts a finished bake reports baked or unchanged (each line names one host). */
function completedHosts(stderr: string): string[] {
  return [...stderr.matchAll(/^(pi\d): (baked|unchanged) /gm)].map((m) => m[1] ?? '').sort();
}

function bakedHosts(stderr: string): string[] {
  return [...stderr.matchAll(/^(pi\d): baked /gm)].map((m) => m[1] ?? '');
}

/** The bake may have finished just before its signal (a busy machine is faster than calibrated). */
function killProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** What must hold after any interruption of a bake into `outDir`. */
async function assertLeftAsItWas(
  t: ExecutionContext,
  run: { result: NpmResult; pid: number; outDir: string; before: Record<string, string>; what: string },
): Promise<void> {
  const { result, outDir, before, what } = run;
  t.false(result.timedOut, `${what}: ${npmOutput(result)}`);
  t.is(result.exitCode, 130, `${what}: ${npmOutput(result)}`);
  const output = result.stdout + result.stderr;
  t.regex(output, INTERRUPTED, what);
  t.notRegex(output, /npm error|at .+\(.+:\d+:\d+\)/, `${what}: no npm error report or stack`);
  const after = await hostImages(outDir);
  const baked = bakedHosts(output);
  for (const host of ['pi0', 'pi1']) {
    const mine = (files: Record<string, string>) =>
      Object.fromEntries(Object.entries(files).filter(([name]) => name.startsWith(`${host}/`)));
    if (baked.includes(host)) t.true(Object.keys(mine(after)).length > 0, `${what}: ${host} baked whole`);
    else t.deepEqual(mine(after), mine(before), `${what}: ${host}'s previous image byte-identical`);
  }
  t.deepEqual(await bakeLeftovers(outDir), [], `${what}: no temporary files or lock`);
  await sleep(200);
  const left = await processesOf(run.pid, path.dirname(outDir));
  t.deepEqual(
    left.map((p) => `${p.pid} ${p.command}`),
    [],
    `${what}: no node, partclone or compressor left running`,
  );
}

/** Killed by the signal itself with not one line from node: npm had not started it yet. */
function stoppedBeforeNode(result: NpmResult, signal: NodeJS.Signals): boolean {
  return result.exitCode === null && result.signal === signal && result.stderr.trim() === '';
}

async function assertNothingBegun(
  t: ExecutionContext,
  run: { result: NpmResult; pid: number; outDir: string; before: Record<string, string>; what: string },
): Promise<void> {
  t.log(`${run.what}: npm was still starting; killed by the signal before node ran`);
  t.deepEqual(await hostImages(run.outDir), run.before, `${run.what}: images untouched`);
  t.deepEqual(await bakeLeftovers(run.outDir), [], `${run.what}: no temporary files or lock`);
  await sleep(200);
  t.deepEqual(await processesOf(run.pid, path.dirname(run.outDir)), [], `${run.what}: nothing left running`);
}

test('bake through npm, stopped by SIGINT or SIGTERM at 10 points spread over it: exit 130, nothing left half-written', async (t) => {
  const { project, images, rebakeSeconds } = await bakeBaseline();
  t.log(`re-bake of pi0 + pi1 through npm: ${rebakeSeconds.toFixed(1)} s`);
  // The machine's load changes while the suite runs: a bake that ends before its signal shows the
  // bake is faster now, so the point is tried again against that duration.
  let seconds = rebakeSeconds;
  let interrupted = 0;
  let startupSeconds = 0;
  for (let point = 0; point < POINTS; point++) {
    const delivery = DELIVERIES[point % DELIVERIES.length] ?? DELIVERIES[0];
    for (let attempt = 0; attempt < ATTEMPTS_PER_POINT; attempt++) {
      const delay = Math.max(((point + 0.5) / POINTS) * seconds, startupSeconds) * 1000;
      const outDir = await outputCopy(images);
      const before = await hostImages(outDir);
      const started = performance.now();
      const run = runNpm(project, ['bake', '--', 'pi0', 'pi1', '--out', outDir]);
      await sleep(delay);
      if (delivery.to === 'group') killGroup(run.pid, delivery.signal);
      else killProcess(run.pid, delivery.signal);
      const result = await run.result;
      const what = `${delivery.signal} to ${delivery.to === 'group' ? "npm's process group" : 'npm'} after ${(delay / 1000).toFixed(1)} s`;
      t.log(`${what}: exit ${result.exitCode ?? result.signal ?? '?'}`);
      const finished = result.exitCode === 0;
      if (stoppedBeforeNode(result, delivery.signal)) {
        // npm itself was still starting (a loaded machine): it dies by the signal as any npm script
        // would, the shell shows 128 + n, and nothing was begun. The point moves one second on.
        await assertNothingBegun(t, { result, pid: run.pid, outDir, before, what });
        startupSeconds = Math.max(startupSeconds, delay / 1000 + 1);
        await runTool('rm', ['-rf', path.dirname(outDir)]);
        continue;
      }
      if (finished) {
        // Finished before the signal: a complete bake is as good an answer.
        t.deepEqual(completedHosts(result.stderr), ['pi0', 'pi1'], `${what}: ${npmOutput(result)}`);
        // Faster than measured: aim at this run's own length, a tenth earlier each time, so a late
        // point still lands inside a bake whose length the load keeps changing.
        seconds = Math.min(seconds, (performance.now() - started) / 1000) * 0.9;
      } else {
        interrupted++;
        await assertLeftAsItWas(t, { result, pid: run.pid, outDir, before, what });
      }
      await runTool('rm', ['-rf', path.dirname(outDir)]);
      if (!finished) break;
    }
  }
  t.is(interrupted, POINTS, 'every point really interrupted a bake');
});

/** Waits until the run has printed `pattern` (or ended). */
async function until(run: NpmRun, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 3 * 60_000;
  const state = { ended: false };
  void run.result.then(() => (state.ended = true));
  while (Date.now() < deadline && !state.ended && !pattern.test(run.output())) await sleep(25);
}

test('Ctrl-C typed on a terminal during the root filesystem: exit 130, the cursor is shown again', async (t) => {
  const { project, images } = await bakeBaseline();
  const outDir = await outputCopy(images);
  const before = await hostImages(outDir);
  const run = runNpm(project, ['bake', '--', 'pi0', 'pi1', '--out', outDir], { terminal: true });
  // At once: on a loaded machine a host can finish within a second of its root stage.
  await until(run, /root filesystem/);
  run.type('\x03');
  const result = await run.result;
  await assertLeftAsItWas(t, { result, pid: run.pid, outDir, before, what: 'Ctrl-C on a terminal' });
  const output = result.stdout;
  t.true(output.includes('\u001B[?25l'), 'the live view hid the cursor (it ran on a terminal)');
  t.true(
    output.lastIndexOf('\u001B[?25h') > output.lastIndexOf('\u001B[?25l'),
    'the cursor is shown again after it was last hidden',
  );
});

test('import through npm, stopped by SIGTERM half-way: exit 130, no partial clean image', async (t) => {
  const { project, disk } = await bakeBaseline();
  const out = path.join(await tempDir(), 'clean');
  const run = runNpm(project, ['-s', 'import', '--', disk, '--name', 'stopped', '--out', out]);
  await until(run, /import: sda2: cloning/);
  await sleep(1000);
  process.kill(run.pid, 'SIGTERM');
  const result = await run.result;
  t.is(result.exitCode, 130, npmOutput(result));
  t.regex(result.stderr, /Interrupted \(SIGTERM\): no clean image was written/);
  t.deepEqual(await readdir(out).catch(() => []), [], 'nothing left under the output directory');
  await sleep(200);
  t.deepEqual(await processesOf(run.pid, disk), [], 'no partclone or compressor left running');
});

test('publish through npm to a directory share, stopped by SIGINT mid-upload: exit 130, current versions unchanged', async (t) => {
  const { project, images } = await bakeBaseline();
  const share = path.join(await tempDir(), 'share');
  await mkdir(share);
  const run = runNpm(project, ['publish', '--', 'pi0', 'pi1', '--to', share, '--from', images]);
  await until(run, /^uploading /m);
  await sleep(300);
  killGroup(run.pid, 'SIGINT');
  const result = await run.result;
  t.is(result.exitCode, 130, npmOutput(result));
  t.regex(
    result.stderr,
    /Interrupted \(SIGINT\): each host's current version on the share is the one it had/,
  );
  for (const host of ['pi0', 'pi1']) {
    if (new RegExp(`^${host}: published`, 'm').test(result.stderr)) continue;
    t.false((await readdir(share)).includes(host), `${host} was not made current`);
  }
});

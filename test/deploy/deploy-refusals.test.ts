import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { cliOutput } from '../helpers/bake-cli.ts';
import {
  type DeployLab,
  type PiSpec,
  type PublishedShare,
  publishSampleLab,
  startDeployLab,
} from '../helpers/deploy-lab.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/*
 * Preflight refuses, before anything is written, every imager it should not restore on: the fake
 * Pi (test/helpers/fake-pi.ts) starts in its imager, and each test checks the message, the exit
 * status, that the USB disk is byte for byte what it was, and that nothing was rebooted.
 */

const rootTest = skipUnlessRoot(test.serial);
let share: PublishedShare | undefined;
const cleanups: (() => Promise<void>)[] = [];

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await share?.remove();
});

async function publishedShare(): Promise<PublishedShare> {
  share ??= await publishSampleLab();
  return share;
}

interface JsonOutcome {
  status: string;
  step?: string;
  error?: string;
}

/** Deploys pi1 as `spec` describes it and checks that it was refused at preflight, untouched. */
async function refused(
  t: ExecutionContext,
  spec: Omit<PiSpec, 'name'>,
  step: 'locate' | 'preflight' = 'preflight',
): Promise<string> {
  const published = await publishedShare();
  const lab: DeployLab = await startDeployLab({
    share: published,
    pis: [{ name: 'pi1', startAs: 'imager', ...spec }],
  });
  cleanups.push(() => lab.teardown());
  const disk = lab.disk('pi1');
  const before = await sha256File(disk.file);

  const result = await lab.deploy(['pi1', '--yes', '--json']);
  t.is(result.exitCode, 1, cliOutput(result));
  const outcome = (JSON.parse(result.stdout) as { hosts: JsonOutcome[] }).hosts[0];
  t.is(outcome?.status, 'failed');
  t.is(outcome?.step, step);
  if (step === 'preflight') t.regex(outcome?.error ?? '', /not restoring, nothing was written/);

  t.is(await sha256File(disk.file), before, 'the USB disk is untouched');
  t.deepEqual(await lab.pi('pi1').calls(), [], 'nothing was rebooted');
  t.is(lab.pi('pi1').identity(), 'imager');
  return outcome?.error ?? '';
}

rootTest('refused: the target disk is the one the imager runs from', async (t) => {
  const error = await refused(t, { imagerRunsFromTarget: true });
  t.regex(error, /imager1 \(.*\) runs from loop\d+ itself: refusing to overwrite the disk it runs from/);
});

rootTest('refused: the target disk is smaller than the image needs', async (t) => {
  const published = await publishedShare();
  const error = await refused(t, { diskBytes: published.diskBytes - 8 * 1024 * 1024 });
  t.regex(
    error,
    new RegExp(
      `loop\\d+ holds ${published.diskBytes - 8 * 1024 * 1024} bytes, the image needs ${published.diskBytes}`,
    ),
  );
});

rootTest('refused: a file on the share does not match the image manifest', async (t) => {
  const published = await publishedShare();
  const temp: TempDir = await makeTempDir();
  cleanups.push(() => temp.remove());
  const copy = path.join(temp.path, 'share');
  await runCommand(command('cp', ['-a', published.shareDir, copy]));
  const damaged = await largestFile(path.join(copy, 'pi1'));
  await flipByte(path.join(copy, 'pi1', damaged));

  const error = await refused(t, { shareDir: copy });
  t.regex(
    error,
    new RegExp(`on the share, ${damaged.replace(/\./g, '\\.')} does not match the image's manifest`),
  );
  t.regex(error, /npm run publish -- pi1/);
});

rootTest('refused: the imager answering is not pi1’s imager', async (t) => {
  // Found neither as pi1 nor as imager1: refused while locating it, before any check or write.
  const error = await refused(t, { imagerAnswersAs: 'imager7' }, 'locate');
  t.regex(error, /pi1 answers neither as itself nor as its imager/);
  t.regex(error, /it answers as imager7, not imager1/);
});

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function largestFile(dir: string): Promise<string> {
  let largest = { name: '', size: -1 };
  for (const name of await readdir(dir)) {
    const size = (await stat(path.join(dir, name))).size;
    if (size > largest.size) largest = { name, size };
  }
  return largest.name;
}

/** One byte in the middle inverted: same size, other content. */
async function flipByte(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const { size } = await handle.stat();
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, Math.floor(size / 2));
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await handle.write(byte, 0, 1, Math.floor(size / 2));
  } finally {
    await handle.close();
  }
}

import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ocsRestoreArgs } from '../src/deploy/remote-commands.ts';
import { command } from '../src/exec/command.ts';
import { runCommand } from '../src/exec/run-command.ts';
import { type DeployLab, type PublishedShare, startDeployLab } from '../test/helpers/deploy-lab.ts';
import { attachLoop } from '../test/helpers/loop-device.ts';
import { median } from './report.ts';
import { benchHosts, benchPaths, ensureCleanImage, writeBenchLab } from './setup.ts';

/*
 * Deploying the bench image (≥ 1.5 GB root) to fake Pis (test/helpers/fake-pi.ts: real sshd, real
 * ocs-sr, a loop device as the USB disk), against a bare `ocs-sr restoredisk` of the same image onto
 * the same kind of disk in the same run; then three nodes at once against one.
 */

const run = promisify(execFile);

export const DEPLOY_TARGETS = { restoreOfBare: 1.1 } as const;

export interface DeployBenchReport {
  readonly runs: number;
  readonly imageBytes: number;
  readonly medians: {
    /** Seconds of a bare ocs-sr restoredisk from the share directory to a loop device. */
    readonly bareRestore: number;
    /** Seconds of deploy's restore step (start the job, follow its log to the end). */
    readonly deployRestore: number;
    /** Seconds of a whole deploy of one node that starts in its imager. */
    readonly oneNode: number;
    /** Seconds of a whole deploy of three nodes at once. */
    readonly threeNodes: number;
  };
  readonly ratios: { readonly restoreOfBare: number; readonly threeOfOne: number };
  readonly perRun: readonly Record<string, number>[];
  readonly targets: readonly { name: string; value: string; limit: string; pass: boolean }[];
}

export async function runDeployBench(options: {
  readonly projectDir: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}): Promise<DeployBenchReport> {
  const { projectDir, log } = options;
  if (process.getuid?.() !== 0)
    throw new Error('the deploy bench needs root (namespaces, sshd, loop devices, ocs-sr)');
  const paths = benchPaths(projectDir);
  await ensureCleanImage(projectDir, log);
  const benchLab = await writeBenchLab(projectDir);
  const images = path.join(paths.benchDir, 'publish-src');
  const nodes = benchHosts().nodes.slice(0, 3);
  log('baking the bench lab into .bench/publish-src (incremental)');
  await cli(projectDir, 'bake', ['--lab', benchLab, '--out', images, '--json', ...nodes]);

  const work = path.join(paths.benchDir, 'deploy-work');
  await rm(work, { recursive: true, force: true });
  const shareDir = path.join(work, 'share');
  await mkdir(shareDir, { recursive: true });
  log(`publishing ${nodes.join(' ')} to ${path.relative(projectDir, shareDir)}`);
  await cli(projectDir, 'publish', ['--lab', benchLab, '--from', images, '--to', shareDir, ...nodes]);
  const share: PublishedShare = {
    dir: work,
    shareDir,
    diskBytes: await savedDiskBytes(shareDir, nodes[0] ?? 'pi1'),
    remove: () => rm(work, { recursive: true, force: true }),
  };
  const imageBytes = await imageSize(shareDir, nodes[0] ?? 'pi1');
  log(`image ${(imageBytes / 1e6).toFixed(0)} MB, disk ${(share.diskBytes / 1e9).toFixed(2)} GB`);

  const perRun: Record<string, number>[] = [];
  try {
    for (let index = 1; index <= options.runs; index++) {
      log(`run ${index}/${options.runs}`);
      const bareRestore = await bareOcsRestore(share, nodes[0] ?? 'pi1', work);
      log(`    bare ocs-sr restoredisk: ${bareRestore.toFixed(1)} s`);
      const one = await deployAtOnce(share, nodes.slice(0, 1));
      log(`    deploy 1 node: ${one.total.toFixed(1)} s (restore step ${one.restore.toFixed(1)} s)`);
      const three = await deployAtOnce(share, nodes);
      log(`    deploy 3 nodes at once: ${three.total.toFixed(1)} s`);
      perRun.push({ bareRestore, deployRestore: one.restore, oneNode: one.total, threeNodes: three.total });
    }
  } finally {
    await share.remove();
  }
  const pick = (key: string) => median(perRun.map((r) => r[key] ?? Number.NaN));
  const medians = {
    bareRestore: pick('bareRestore'),
    deployRestore: pick('deployRestore'),
    oneNode: pick('oneNode'),
    threeNodes: pick('threeNodes'),
  };
  const ratios = {
    restoreOfBare: median(perRun.map((r) => (r.deployRestore ?? 0) / (r.bareRestore ?? 1))),
    threeOfOne: median(perRun.map((r) => (r.threeNodes ?? 0) / (r.oneNode ?? 1))),
  };
  return {
    runs: options.runs,
    imageBytes,
    medians,
    ratios,
    perRun,
    targets: [
      {
        name: 'deploy restore step / bare ocs-sr restoredisk',
        value: `${ratios.restoreOfBare.toFixed(3)}×`,
        limit: `≤ ${DEPLOY_TARGETS.restoreOfBare}×`,
        pass: ratios.restoreOfBare <= DEPLOY_TARGETS.restoreOfBare,
      },
    ],
  };
}

async function cli(projectDir: string, script: string, args: readonly string[]): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], {
    cwd: projectDir,
    maxBuffer: 1 << 26,
  });
}

/** The same command deploy starts on the imager, here on the host, onto a loop device of the same size. */
async function bareOcsRestore(share: PublishedShare, host: string, work: string): Promise<number> {
  const diskFile = path.join(work, 'bare-disk.img');
  await writeFile(diskFile, '');
  await truncate(diskFile, share.diskBytes);
  const disk = await attachLoop(diskFile);
  const stopSync = disk.startBackgroundSync();
  try {
    const started = performance.now();
    // stdin closed: ocs-sr asks for Enter when something fails, and must fail instead of waiting.
    await runCommand(command('ocs-sr', ocsRestoreArgs(share.shareDir, host, disk.name)));
    return (performance.now() - started) / 1000;
  } finally {
    await stopSync();
    await disk.detach();
    await rm(diskFile, { force: true });
  }
}

interface Timed {
  readonly total: number;
  readonly restore: number;
}

/** Deploys `hosts`, each a fake Pi starting in its imager; wall-clock seconds and the first restore step. */
async function deployAtOnce(share: PublishedShare, hosts: readonly string[]): Promise<Timed> {
  const lab: DeployLab = await startDeployLab({
    share,
    pis: hosts.map((name) => ({ name, startAs: 'imager' as const })),
    parallel: hosts.length,
    timeouts: { restore: 3600 },
  });
  try {
    const started = performance.now();
    const result = await lab.deploy([...hosts, '--yes', '--json'], { timeoutMs: 60 * 60_000 });
    const total = (performance.now() - started) / 1000;
    if (result.exitCode !== 0) throw new Error(`deploy failed:\n${result.stdout}\n${result.stderr}`);
    const outcomes = (JSON.parse(result.stdout) as { hosts: { steps?: { restore?: number } }[] }).hosts;
    return { total, restore: outcomes[0]?.steps?.restore ?? Number.NaN };
  } finally {
    await lab.teardown();
  }
}

async function savedDiskBytes(shareDir: string, host: string): Promise<number> {
  const disk = (await readFile(path.join(shareDir, host, 'disk'), 'utf8')).trim();
  const parted = await readFile(path.join(shareDir, host, `${disk}-pt.parted`), 'utf8');
  return Number(/^Disk \/dev\/\S+: (\d+)s$/m.exec(parted)?.[1] ?? 0) * 512;
}

async function imageSize(shareDir: string, host: string): Promise<number> {
  const manifest = JSON.parse(await readFile(path.join(shareDir, host, 'pi-lab-manifest.json'), 'utf8')) as {
    files: Record<string, { size: number }>;
  };
  return Object.values(manifest.files).reduce((sum, file) => sum + file.size, 0);
}

export function renderDeployReport(report: DeployBenchReport): string {
  const s = (seconds: number) => `${seconds.toFixed(1)} s`;
  return [
    `deploy bench: ${report.runs} run(s), image ${(report.imageBytes / 1e6).toFixed(0)} MB, medians`,
    `  bare ocs-sr restoredisk        ${s(report.medians.bareRestore)}`,
    `  deploy's restore step          ${s(report.medians.deployRestore)}  (${report.ratios.restoreOfBare.toFixed(3)}× bare)`,
    `  deploy 1 node (from imager)    ${s(report.medians.oneNode)}`,
    `  deploy 3 nodes at once         ${s(report.medians.threeNodes)}  (${report.ratios.threeOfOne.toFixed(2)}× one node)`,
    ...report.targets.map((t) => `  target ${t.name}: ${t.value} (${t.limit}) ${t.pass ? 'PASS' : 'FAIL'}`),
  ].join('\n');
}

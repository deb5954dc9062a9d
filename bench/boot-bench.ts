import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { readBootFiles } from '../src/boot-test/boot-vm.ts';
import { restoreDiskFile } from '../src/boot-test/disk-from-image.ts';
import { qemuCommand, vmCommandLine } from '../src/boot-test/qemu-command.ts';
import { runBootTest, type BootTestResult } from '../src/boot-test/run-boot-test.ts';
import { runCommand } from '../src/exec/run-command.ts';
import { loadLab } from '../src/lab/load-lab.ts';
import { bakeLab, makeBootableLab, type BootableLab } from '../test/helpers/bootable-lab.ts';
import { median } from './report.ts';

/*
 * Boot tests of the bootable sample under QEMU: the time to a verified node (alone) and to a
 * verified router + node lab, the share of it the VMs were running (emulation), against a bare
 * QEMU run of the node's first boot (kernel → firstrun.sh → reboot) measured in the same run.
 */

export interface BootBenchReport {
  readonly runs: number;
  readonly accel: 'kvm' | 'tcg';
  readonly medians: {
    /** Seconds of a bare QEMU run of pi1's first boot, from start to the reboot that ends it. */
    readonly bareFirstBoot: number;
    /** Seconds from `runBootTest pi1` to its verdict, disk made from the image included. */
    readonly node: number;
    /** Of which the VM was running (boots and checks). */
    readonly nodeEmulation: number;
    readonly lab: number;
    readonly labEmulation: number;
  };
  readonly ratios: {
    readonly nodeOfBareBoot: number;
    readonly labOfBareBoot: number;
    readonly nodeEmulationShare: number;
    readonly labEmulationShare: number;
  };
  readonly stages: { readonly node: Record<string, number>; readonly lab: Record<string, number> };
  readonly perRun: readonly Record<string, number>[];
  readonly targets: readonly { name: string; value: string; limit: string; pass: boolean }[];
}

export async function runBootBench(options: {
  readonly projectDir: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}): Promise<BootBenchReport> {
  const { projectDir, log } = options;
  if (process.getuid?.() !== 0) throw new Error('the boot bench needs root (mmdebstrap builds the sample)');
  const dir = path.join(projectDir, '.bench', 'boot');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  log('bootable sample (cached after its first build), import, bake pi0 + pi1');
  const lab = await makeBootableLab(dir, 'firstrun', [
    { name: 'pi0', recipe: 'router' },
    { name: 'pi1', recipe: 'node', mac: 'd8:3a:dd:f7:78:e0', ip: '10.87.0.101' },
  ]);
  await bakeLab(lab, []);
  const resolved = await loadLab(lab.labFile, { projectDir });

  const perRun: Record<string, number>[] = [];
  const stages = { node: [] as Record<string, number>[], lab: [] as Record<string, number>[] };
  let accel: 'kvm' | 'tcg' = 'tcg';
  for (let index = 1; index <= options.runs; index++) {
    log(`run ${index}/${options.runs}`);
    const bare = await bareFirstBoot(lab);
    log(`    bare first boot of pi1: ${bare.toFixed(1)} s`);
    const node = await timedBootTest(resolved, lab, ['pi1']);
    accel = node.result.accel;
    log(`    verified node: ${node.seconds.toFixed(1)} s (VM running ${node.emulation.toFixed(1)} s)`);
    const labRun = await timedBootTest(resolved, lab, ['pi0', 'pi1']);
    log(
      `    verified router + node: ${labRun.seconds.toFixed(1)} s (VMs running ${labRun.emulation.toFixed(1)} s)`,
    );
    perRun.push({
      bareFirstBoot: bare,
      node: node.seconds,
      nodeEmulation: node.emulation,
      lab: labRun.seconds,
      labEmulation: labRun.emulation,
    });
    stages.node.push(node.stages);
    stages.lab.push(labRun.stages);
  }
  const pick = (key: string): number => median(perRun.map((run) => run[key] ?? Number.NaN));
  const medians = {
    bareFirstBoot: pick('bareFirstBoot'),
    node: pick('node'),
    nodeEmulation: pick('nodeEmulation'),
    lab: pick('lab'),
    labEmulation: pick('labEmulation'),
  };
  return {
    runs: options.runs,
    accel,
    medians,
    ratios: {
      nodeOfBareBoot: medians.node / medians.bareFirstBoot,
      labOfBareBoot: medians.lab / medians.bareFirstBoot,
      nodeEmulationShare: medians.nodeEmulation / medians.node,
      labEmulationShare: medians.labEmulation / medians.lab,
    },
    stages: { node: medianStages(stages.node), lab: medianStages(stages.lab) },
    perRun,
    targets: [],
  };
}

async function timedBootTest(
  resolvedLab: Awaited<ReturnType<typeof loadLab>>,
  lab: BootableLab,
  hosts: string[],
) {
  const started = performance.now();
  const result: BootTestResult = await runBootTest({
    lab: resolvedLab,
    hosts,
    fromDir: lab.imagesDir,
    logDir: lab.logDir,
  });
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok)
    throw new Error(
      `boot test of ${hosts.join(' ')} failed: ${result.hosts.map((h) => h.error ?? '').join('\n')}`,
    );
  const disk = result.hosts.reduce((sum, host) => sum + host.seconds.disk, 0);
  const stages: Record<string, number> = { disks: disk };
  for (const host of result.hosts) {
    host.boots.forEach((boot) => (stages[`${host.host} boot ${boot.boot}`] = boot.seconds));
    stages[`${host.host} checks`] = host.seconds.checks;
  }
  return { result, seconds, emulation: seconds - disk, stages };
}

async function bareFirstBoot(lab: BootableLab): Promise<number> {
  const work = path.join(lab.dir, 'bare');
  await rm(work, { recursive: true, force: true });
  await mkdir(work);
  try {
    const disk = await restoreDiskFile(path.join(lab.imagesDir, 'pi1'), path.join(work, 'pi1.img'));
    const files = await readBootFiles(
      { host: 'pi1', disk: disk.path, bootOffset: disk.bootOffset, workDir: work },
      1,
    );
    const started = performance.now();
    await runCommand(
      qemuCommand({
        disk: disk.path,
        kernel: files.kernel,
        initrd: files.initrd,
        append: vmCommandLine(files.cmdline),
        serialLog: path.join(work, 'serial.log'),
        nics: [],
        accel: 'tcg',
        memoryMiB: 1024,
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function medianStages(runs: readonly Record<string, number>[]): Record<string, number> {
  const keys = [...new Set(runs.flatMap((run) => Object.keys(run)))];
  return Object.fromEntries(keys.map((key) => [key, median(runs.map((run) => run[key] ?? Number.NaN))]));
}

export function renderBootReport(report: BootBenchReport): string {
  const s = (value: number): string => `${value.toFixed(1)} s`;
  const pct = (value: number): string => `${(value * 100).toFixed(0)} %`;
  const { medians, ratios } = report;
  return [
    `## Boot test (${report.runs} runs, medians, ${report.accel === 'kvm' ? 'KVM' : 'software emulation (TCG)'})`,
    '',
    `- bare QEMU first boot of pi1 (baseline, same run): ${s(medians.bareFirstBoot)}`,
    `- verified node (pi1 alone, every check): ${s(medians.node)} = ${ratios.nodeOfBareBoot.toFixed(2)}× the bare first boot; VM running ${s(medians.nodeEmulation)} = ${pct(ratios.nodeEmulationShare)} of it`,
    `- verified lab (router pi0 + node pi1): ${s(medians.lab)} = ${ratios.labOfBareBoot.toFixed(2)}× the bare first boot; VMs running ${s(medians.labEmulation)} = ${pct(ratios.labEmulationShare)} of it`,
    '',
    'Stages (medians, seconds):',
    `- node: ${Object.entries(report.stages.node)
      .map(([key, value]) => `${key} ${value.toFixed(1)}`)
      .join(', ')}`,
    `- lab: ${Object.entries(report.stages.lab)
      .map(([key, value]) => `${key} ${value.toFixed(1)}`)
      .join(', ')}`,
  ].join('\n');
}

import { rename, writeFile } from 'node:fs/promises';
import type { BakeRun, BaselineRun } from './measure.ts';
import type { ProgramTime } from './process-tree.ts';
import type { SetupFacts } from './setup.ts';

export const TARGETS = {
  marginalNodeOfBaseline: 0.03,
  noChangeRebakeSeconds: 2,
  peakTreeRssBytes: 300e6,
  routerRootChangeOfBaseline: 0.15,
  nodesRootChangeOfBaseline: 0.25,
  fullBakeOfBaselinePerHost: 2,
} as const;

/** The stages a bake reports, in order (src/values/stage-times.ts). */
const STAGES = ['restore', 'copy', 'edits', 'clone', 'verify', 'chunk+hash', 'compress', 'write', 'assemble'];

/** One pass over every measurement; the bench repeats it `--runs` times. */
export interface RunResult {
  readonly run: number;
  readonly baseline: BaselineRun;
  readonly full: BakeRun;
  readonly rebake: BakeRun;
  /** The router's DHCP lease changed, re-baked into the full bake's output. */
  readonly routerChange: BakeRun;
  /** The sshd drop-in every node shares changed: the nodes re-baked there. */
  readonly nodesChange: BakeRun;
  readonly subset: BakeRun;
  /** One of the nodes the subset left out, then the others, baked into its output afterwards. */
  readonly addedOne: BakeRun;
  readonly addedRest: BakeRun;
  readonly router: BakeRun;
  readonly node: BakeRun;
}

export interface Environment {
  readonly startedAt: string;
  readonly loadStart: string;
  readonly loadEnd: string;
  readonly cpus: number;
  readonly node: string;
  readonly commit: string;
  readonly srcDigestStart: string;
  readonly srcDigestEnd: string;
}

export interface Target {
  readonly name: string;
  readonly value: string;
  readonly limit: string;
  readonly pass: boolean;
}

export interface BenchReport {
  readonly environment: Environment;
  readonly setup: SetupFacts;
  readonly runs: number;
  readonly nodeCount: number;
  readonly subsetNodes: number;
  readonly medians: {
    readonly fullSeconds: number;
    readonly subsetSeconds: number;
    readonly marginalNodeSeconds: number;
    readonly addedOneSeconds: number;
    readonly addedRestSeconds: number;
    readonly addedNodeSeconds: number;
    readonly addedOneCpuSeconds: number;
    readonly addedRestCpuSeconds: number;
    readonly addedNodeCpuSeconds: number;
    readonly fullCpuSeconds: number;
    readonly subsetCpuSeconds: number;
    readonly marginalNodeCpuSeconds: number;
    readonly baselineCpuSeconds: number;
    readonly routerSeconds: number;
    readonly nodeSeconds: number;
    readonly rebakeSeconds: number;
    readonly routerChangeSeconds: number;
    readonly nodesChangeSeconds: number;
    readonly baselineSeconds: number;
    readonly peakTreeRssBytes: number;
    readonly peakTreeRssWithoutForksBytes: number;
    readonly peakTreePssBytes: number;
    readonly nodeMaxRssBytes: number;
  };
  readonly peakTreeRssBytesMax: number;
  readonly peakTreeRssWithoutForksBytesMax: number;
  readonly peakTreePssBytesMax: number;
  readonly nodeMaxRssBytesMax: number;
  readonly ratios: {
    readonly marginalNodeOfBaseline: number;
    readonly addedNodeOfBaseline: number;
    readonly fullOfBaselineTimesHosts: number;
    /** The work a node adds, whether or not it runs while a core would idle, against the baseline's. */
    readonly marginalNodeCpuOfBaselineCpu: number;
    readonly addedNodeCpuOfBaselineCpu: number;
  };
  readonly targets: readonly Target[];
  readonly hostSecondsInFullBake: Readonly<Record<string, number>>;
  /** Median seconds per bake stage (overlapping: see StageTimes), per measured bake. */
  readonly stages: Readonly<
    Record<'full' | 'routerChange' | 'nodesChange', Readonly<Record<string, number>>>
  >;
  readonly baselineSteps: Readonly<Record<string, number>>;
  readonly childProcesses: Readonly<Record<'full' | 'router' | 'node', readonly ProgramTime[]>>;
  readonly commands: Readonly<Record<string, string | readonly string[]>>;
  readonly perRun: readonly {
    readonly run: number;
    readonly full: number;
    readonly subset: number;
    readonly marginalNode: number;
    readonly addedOne: number;
    readonly addedRest: number;
    readonly addedOneCpu: number;
    readonly addedRestCpu: number;
    readonly fullCpu: number;
    readonly subsetCpu: number;
    readonly baselineCpu: number;
    readonly router: number;
    readonly node: number;
    readonly rebake: number;
    readonly routerChange: number;
    readonly nodesChange: number;
    readonly baseline: number;
    readonly peakTreeRssBytes: number;
    readonly peakTreeRssWithoutForksBytes: number;
    readonly peakTreePssBytes: number;
    readonly nodeMaxRssBytes: number;
    readonly samplerCpuSeconds: number;
  }[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

export function buildReport(
  runs: readonly RunResult[],
  context: {
    readonly environment: Environment;
    readonly setup: SetupFacts;
    readonly nodeCount: number;
    readonly subsetNodes: number;
  },
): BenchReport {
  const pick = (f: (run: RunResult) => number) => median(runs.map(f));
  const first = runs[0];
  if (!first) throw new Error('no runs to report');
  const fullSeconds = pick((r) => r.full.seconds);
  const subsetSeconds = pick((r) => r.subset.seconds);
  const addedNodes = context.nodeCount - context.subsetNodes;
  const marginalNodeSeconds = (fullSeconds - subsetSeconds) / addedNodes;
  const fullCpuSeconds = pick((r) => r.full.cpuSeconds);
  const subsetCpuSeconds = pick((r) => r.subset.cpuSeconds);
  const marginalNodeCpuSeconds = (fullCpuSeconds - subsetCpuSeconds) / addedNodes;
  const baselineCpuSeconds = pick((r) => r.baseline.cpuSeconds);
  // The rest are all the left-out nodes but one: their bake's extra nodes over the one-node bake.
  const extraNodes = addedNodes - 2;
  const addedOneSeconds = pick((r) => r.addedOne.seconds);
  const addedRestSeconds = pick((r) => r.addedRest.seconds);
  const addedNodeSeconds = (addedRestSeconds - addedOneSeconds) / extraNodes;
  const addedOneCpuSeconds = pick((r) => r.addedOne.cpuSeconds);
  const addedRestCpuSeconds = pick((r) => r.addedRest.cpuSeconds);
  const addedNodeCpuSeconds = (addedRestCpuSeconds - addedOneCpuSeconds) / extraNodes;
  const baselineSeconds = pick((r) => r.baseline.seconds);
  const rebakeSeconds = pick((r) => r.rebake.seconds);
  const routerChangeSeconds = pick((r) => r.routerChange.seconds);
  const nodesChangeSeconds = pick((r) => r.nodesChange.seconds);
  const routerChangeRatio = routerChangeSeconds / baselineSeconds;
  const nodesChangeRatio = nodesChangeSeconds / baselineSeconds;
  // The issue's measure: the whole first bake against the naive tool's cost for one host (154 s
  // against 38 s was "four times").
  const fullOfBaselinePerHost = fullSeconds / baselineSeconds;
  const stagesOf = (key: 'full' | 'routerChange' | 'nodesChange') =>
    Object.fromEntries(STAGES.map((stage) => [stage, median(runs.map((r) => r[key].stages?.[stage] ?? 0))]));
  const peaks = runs.map((r) => r.full.peakTreeRssBytes ?? Number.NaN);
  const withoutForks = runs.map((r) => r.full.peakTreeRssWithoutForksBytes ?? Number.NaN);
  const pss = runs.map((r) => r.full.peakTreePssBytes ?? Number.NaN);
  const nodeRss = runs.map((r) => r.full.nodeMaxRssBytes ?? Number.NaN);
  const peakMax = Math.max(...peaks);
  const ratio = marginalNodeSeconds / baselineSeconds;
  const addedRatio = addedNodeSeconds / baselineSeconds;
  const hostSeconds: Record<string, number> = {};
  for (const host of first.full.hosts) {
    hostSeconds[host.host] = median(
      runs.map((r) => r.full.hosts.find((h) => h.host === host.host)?.seconds ?? Number.NaN),
    );
  }
  const baselineSteps: Record<string, number> = {};
  for (const step of first.baseline.steps) {
    const key = `${step.step} ${step.partition}`;
    baselineSteps[key] = median(
      runs.map(
        (r) =>
          r.baseline.steps.find((s) => s.step === step.step && s.partition === step.partition)?.seconds ??
          Number.NaN,
      ),
    );
  }
  return {
    environment: context.environment,
    setup: context.setup,
    runs: runs.length,
    nodeCount: context.nodeCount,
    subsetNodes: context.subsetNodes,
    medians: {
      fullSeconds,
      subsetSeconds,
      marginalNodeSeconds,
      addedOneSeconds,
      addedRestSeconds,
      addedNodeSeconds,
      addedOneCpuSeconds,
      addedRestCpuSeconds,
      addedNodeCpuSeconds,
      fullCpuSeconds,
      subsetCpuSeconds,
      marginalNodeCpuSeconds,
      baselineCpuSeconds,
      routerSeconds: pick((r) => r.router.seconds),
      nodeSeconds: pick((r) => r.node.seconds),
      rebakeSeconds,
      routerChangeSeconds,
      nodesChangeSeconds,
      baselineSeconds,
      peakTreeRssBytes: median(peaks),
      peakTreeRssWithoutForksBytes: median(withoutForks),
      peakTreePssBytes: median(pss),
      nodeMaxRssBytes: median(nodeRss),
    },
    peakTreeRssBytesMax: peakMax,
    peakTreeRssWithoutForksBytesMax: Math.max(...withoutForks),
    peakTreePssBytesMax: Math.max(...pss),
    nodeMaxRssBytesMax: Math.max(...nodeRss),
    ratios: {
      marginalNodeOfBaseline: ratio,
      addedNodeOfBaseline: addedRatio,
      fullOfBaselineTimesHosts: fullSeconds / (baselineSeconds * (context.nodeCount + 1)),
      marginalNodeCpuOfBaselineCpu: marginalNodeCpuSeconds / baselineCpuSeconds,
      addedNodeCpuOfBaselineCpu: addedNodeCpuSeconds / baselineCpuSeconds,
    },
    targets: [
      {
        name: 'marginal node cost, nodes added to a baked lab / baseline per host',
        value: percent(addedRatio),
        limit: `<= ${percent(TARGETS.marginalNodeOfBaseline)}`,
        pass: addedRatio <= TARGETS.marginalNodeOfBaseline,
      },
      {
        name: 'marginal node cost within a bake from scratch / baseline per host',
        value: percent(ratio),
        limit: `<= ${percent(TARGETS.marginalNodeOfBaseline)}`,
        pass: ratio <= TARGETS.marginalNodeOfBaseline,
      },
      {
        name: `no-change re-bake, ${context.nodeCount + 1} hosts (median)`,
        value: `${rebakeSeconds.toFixed(2)} s`,
        limit: `<= ${TARGETS.noChangeRebakeSeconds} s`,
        pass: rebakeSeconds <= TARGETS.noChangeRebakeSeconds,
      },
      {
        name: 'router root change (DHCP lease) re-bake / baseline per host',
        value: percent(routerChangeRatio),
        limit: `<= ${percent(TARGETS.routerRootChangeOfBaseline)}`,
        pass: routerChangeRatio <= TARGETS.routerRootChangeOfBaseline,
      },
      {
        name: `shared root change (sshd drop-in), ${context.nodeCount} nodes together / baseline per host`,
        value: percent(nodesChangeRatio),
        limit: `<= ${percent(TARGETS.nodesRootChangeOfBaseline)}`,
        pass: nodesChangeRatio <= TARGETS.nodesRootChangeOfBaseline,
      },
      {
        name: `first bake of all ${context.nodeCount + 1} hosts / baseline per host`,
        value: `${fullOfBaselinePerHost.toFixed(2)}x`,
        limit: `<= ${TARGETS.fullBakeOfBaselinePerHost}x`,
        pass: fullOfBaselinePerHost <= TARGETS.fullBakeOfBaselinePerHost,
      },
      {
        name: 'peak RSS of the bake process tree (max of runs)',
        value: megabytes(peakMax),
        limit: `<= ${megabytes(TARGETS.peakTreeRssBytes)}`,
        pass: peakMax <= TARGETS.peakTreeRssBytes,
      },
    ],
    hostSecondsInFullBake: hostSeconds,
    stages: {
      full: stagesOf('full'),
      routerChange: stagesOf('routerChange'),
      nodesChange: stagesOf('nodesChange'),
    },
    baselineSteps,
    childProcesses: {
      full: first.full.programs ?? [],
      router: first.router.programs ?? [],
      node: first.node.programs ?? [],
    },
    commands: {
      full: first.full.commandLine,
      rebake: first.rebake.commandLine,
      routerChange: first.routerChange.commandLine,
      nodesChange: first.nodesChange.commandLine,
      subset: first.subset.commandLine,
      router: first.router.commandLine,
      node: first.node.commandLine,
      baseline: first.baseline.commandLines,
    },
    perRun: runs.map((r) => ({
      run: r.run,
      full: r.full.seconds,
      subset: r.subset.seconds,
      marginalNode: (r.full.seconds - r.subset.seconds) / addedNodes,
      addedOne: r.addedOne.seconds,
      addedRest: r.addedRest.seconds,
      addedOneCpu: r.addedOne.cpuSeconds,
      addedRestCpu: r.addedRest.cpuSeconds,
      fullCpu: r.full.cpuSeconds,
      subsetCpu: r.subset.cpuSeconds,
      baselineCpu: r.baseline.cpuSeconds,
      router: r.router.seconds,
      node: r.node.seconds,
      rebake: r.rebake.seconds,
      routerChange: r.routerChange.seconds,
      nodesChange: r.nodesChange.seconds,
      baseline: r.baseline.seconds,
      peakTreeRssBytes: r.full.peakTreeRssBytes ?? Number.NaN,
      peakTreeRssWithoutForksBytes: r.full.peakTreeRssWithoutForksBytes ?? Number.NaN,
      peakTreePssBytes: r.full.peakTreePssBytes ?? Number.NaN,
      nodeMaxRssBytes: r.full.nodeMaxRssBytes ?? Number.NaN,
      samplerCpuSeconds: r.full.samplerCpuSeconds ?? Number.NaN,
    })),
  };
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2)} %`;
}

/** Decimal megabytes (10^6 bytes), as the target is stated. */
function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function nodes(count: number): string {
  return count === 1 ? '1 node' : `${count} nodes`;
}

export function renderReport(report: BenchReport): string {
  const m = report.medians;
  const runsOf = (key: keyof BenchReport['perRun'][number]) =>
    report.perRun.map((r) => r[key].toFixed(2)).join(' ');
  const s = (seconds: number) => seconds.toFixed(2);
  const hosts = report.perRun.length;
  const left = report.nodeCount - report.subsetNodes;
  const measurements = table(
    ['measurement', 'median s', `runs (s), n=${hosts}`],
    [
      [`1. full bake from scratch, pi0 + ${report.nodeCount} nodes`, s(m.fullSeconds), runsOf('full')],
      [`   bake from scratch, pi0 + ${nodes(report.subsetNodes)}`, s(m.subsetSeconds), runsOf('subset')],
      [`2. marginal cost per node (diff / ${left})`, s(m.marginalNodeSeconds), runsOf('marginalNode')],
      ['   1 node added to that bake', s(m.addedOneSeconds), runsOf('addedOne')],
      [`   then ${nodes(left - 1)} added`, s(m.addedRestSeconds), runsOf('addedRest')],
      [`   marginal cost per node added (diff / ${left - 2})`, s(m.addedNodeSeconds), ''],
      ['3. router alone from scratch (pi0)', s(m.routerSeconds), runsOf('router')],
      ['   one node alone from scratch (pi1)', s(m.nodeSeconds), runsOf('node')],
      [`4. no-change re-bake, ${report.nodeCount + 1} hosts`, s(m.rebakeSeconds), runsOf('rebake')],
      ['   router root change (DHCP lease) re-bake', s(m.routerChangeSeconds), runsOf('routerChange')],
      [
        `   shared root change (sshd drop-in), ${report.nodeCount} nodes`,
        s(m.nodesChangeSeconds),
        runsOf('nodesChange'),
      ],
      ['5. baseline per host (pigz -dc, cp, pigz)', s(m.baselineSeconds), runsOf('baseline')],
    ],
  );
  const cpu = table(
    ['CPU, user + system, all processes', 'median s', `runs (s), n=${hosts}`],
    [
      [`full bake, pi0 + ${report.nodeCount} nodes`, s(m.fullCpuSeconds), runsOf('fullCpu')],
      [`bake, pi0 + ${nodes(report.subsetNodes)}`, s(m.subsetCpuSeconds), runsOf('subsetCpu')],
      [`marginal CPU per node (diff / ${left})`, s(m.marginalNodeCpuSeconds), ''],
      ['1 node added to a baked lab', s(m.addedOneCpuSeconds), runsOf('addedOneCpu')],
      [`then ${nodes(left - 1)} added`, s(m.addedRestCpuSeconds), runsOf('addedRestCpu')],
      [`marginal CPU per node added (diff / ${left - 2})`, s(m.addedNodeCpuSeconds), ''],
      ['baseline per host', s(m.baselineCpuSeconds), runsOf('baselineCpu')],
      [
        'marginal node CPU / baseline CPU per host',
        `${percent(report.ratios.marginalNodeCpuOfBaselineCpu)}, added: ${percent(report.ratios.addedNodeCpuOfBaselineCpu)}`,
        '',
      ],
    ],
  );
  const memory = table(
    ['6. memory during the full bake', 'median', 'max', 'runs'],
    [
      [
        'peak RSS, bake process tree (sum)',
        megabytes(m.peakTreeRssBytes),
        megabytes(report.peakTreeRssBytesMax),
        report.perRun.map((r) => megabytes(r.peakTreeRssBytes)).join(' '),
      ],
      [
        '  the same without forks before exec',
        megabytes(m.peakTreeRssWithoutForksBytes),
        megabytes(report.peakTreeRssWithoutForksBytesMax),
        report.perRun.map((r) => megabytes(r.peakTreeRssWithoutForksBytes)).join(' '),
      ],
      [
        'peak PSS, bake process tree (sum)',
        megabytes(m.peakTreePssBytes),
        megabytes(report.peakTreePssBytesMax),
        report.perRun.map((r) => megabytes(r.peakTreePssBytes)).join(' '),
      ],
      [
        'max RSS, bake node process alone',
        megabytes(m.nodeMaxRssBytes),
        megabytes(report.nodeMaxRssBytesMax),
        report.perRun.map((r) => megabytes(r.nodeMaxRssBytes)).join(' '),
      ],
    ],
  );
  const targets = table(
    ['target', 'value', 'limit', 'result'],
    report.targets.map((t) => [t.name, t.value, t.limit, t.pass ? 'PASS' : 'FAIL']),
  );
  const hostTimes = table(
    ['host (in the full bake)', 'median s'],
    Object.entries(report.hostSecondsInFullBake).map(([host, seconds]) => [host, s(seconds)]),
  );
  const hostSum = Object.values(report.hostSecondsInFullBake).reduce((a, b) => a + b, 0);
  const programs = (key: 'full' | 'router' | 'node') =>
    table(
      [`child processes, ${key} bake (run 1)`, 'count', 'seconds', 'max RSS'],
      report.childProcesses[key]
        .slice(0, 10)
        .map((p) => [p.program, String(p.count), s(p.seconds), megabytes(p.maxRssBytes)]),
    );
  const stageTable = table(
    ['bake stage (busy s, overlapping)', 'full bake', 'router change', 'nodes change'],
    STAGES.map((stage) => [
      stage,
      s(report.stages.full[stage] ?? 0),
      s(report.stages.routerChange[stage] ?? 0),
      s(report.stages.nodesChange[stage] ?? 0),
    ]),
  );
  const baseline = table(
    ['baseline step', 'median s'],
    Object.entries(report.baselineSteps).map(([step, seconds]) => [step, s(seconds)]),
  );
  const env = report.environment;
  const srcNote =
    env.srcDigestStart === env.srcDigestEnd
      ? 'src/ unchanged during the run'
      : 'WARNING: src/ changed during the run: the runs may mix code versions';
  return [
    `bake benchmark: ${report.runs} runs, commit ${env.commit}, ${env.cpus} CPUs, node ${env.node}; ${srcNote}`,
    `clean image: root ${report.setup.root.files} real files, ${(report.setup.root.bytes / 1e9).toFixed(2)} GB in a ${report.setup.root.sizeMiB} MiB ext4; boot ${report.setup.boot.files} files, ${(report.setup.boot.bytes / 1e6).toFixed(1)} MB in ${report.setup.boot.sizeMiB} MiB FAT32; ${Object.entries(
      report.setup.image,
    )
      .map(([name, size]) => `${name} ${(size / 1e6).toFixed(1)} MB`)
      .join(', ')}`,
    `load at start: ${env.loadStart}`,
    `load at end:   ${env.loadEnd}`,
    '',
    measurements,
    '',
    cpu,
    '(the target is on wall-clock time; CPU shows the work a node adds even where it overlaps other work)',
    '',
    memory,
    `(RSS sampled from /proc every 100 ms; sampling took ${report.perRun.map((r) => s(r.samplerCpuSeconds)).join(' ')} CPU s of the bench process per full bake)`,
    '',
    targets,
    '',
    `full bake ${s(m.fullSeconds)} s = ${(report.ratios.fullOfBaselineTimesHosts * 100).toFixed(1)} % of the baseline for ${report.nodeCount + 1} hosts (${s(m.baselineSeconds * (report.nodeCount + 1))} s)`,
    '',
    `${hostTimes}\n${
      hostSum <= m.fullSeconds
        ? `(sum of host times ${s(hostSum)} s; the other ${s(m.fullSeconds - hostSum)} s of the full bake are start-up, checks, clean-image digests and facts)`
        : `(sum of host times ${s(hostSum)} s > the full bake: hosts were baked concurrently)`
    }`,
    '',
    stageTable,
    '(seconds each stage kept something busy, summed over partitions; a clone, its check and its packer run at once)',
    '',
    baseline,
    '',
    programs('full'),
    '',
    programs('router'),
    '',
    programs('node'),
  ].join('\n');
}

export async function writeReport(file: string, report: BenchReport): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

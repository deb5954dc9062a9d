import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { waitedChildrenCpuSeconds } from './children-cpu.ts';
import { type ProgramTime, summarizePrograms, TreeSampler, type TreeSummary } from './process-tree.ts';

/** A command is data: argv plus optional file redirections, never a shell string. */
export interface BenchCommand {
  readonly program: string;
  readonly args: readonly string[];
  readonly stdinFile?: string;
  readonly stdoutFile?: string;
  readonly env?: Readonly<Record<string, string>>;
}

const SAFE_WORD = /^[\w@%+=:,./-]+$/;

function shellQuote(word: string): string {
  return word !== '' && SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The one rendering of a command, for the report and for errors. */
export function formatCommand(cmd: BenchCommand, cwd?: string): string {
  const shown = (file: string) => shellQuote(cwd ? path.relative(cwd, file) || '.' : file);
  return [
    ...Object.entries(cmd.env ?? {}).map(([key, value]) => `${key}=${shellQuote(value)}`),
    shellQuote(cmd.program === process.execPath ? 'node' : cmd.program),
    ...cmd.args.map(shellQuote),
    ...(cmd.stdinFile ? [`< ${shown(cmd.stdinFile)}`] : []),
    ...(cmd.stdoutFile ? [`> ${shown(cmd.stdoutFile)}`] : []),
  ].join(' ');
}

export interface TimedRun {
  readonly seconds: number;
  /** User + system CPU of the command and all its descendants. */
  readonly cpuSeconds: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly tree?: {
    readonly peakTreeRssBytes: number;
    readonly peakTreeRssWithoutForksBytes: number;
    readonly peakTreePssBytes: number;
    readonly samplerCpuSeconds: number;
    readonly programs: readonly ProgramTime[];
  };
}

export class CommandFailed extends Error {
  constructor(
    readonly commandLine: string,
    readonly status: string,
    readonly seconds: number,
    readonly outputTail: string,
  ) {
    super(`${commandLine} failed (${status}) after ${seconds.toFixed(1)} s\n${outputTail}`);
    this.name = 'CommandFailed';
  }
}

/**
 * Runs one command and times it wall-clock from spawn to exit with performance.now().
 * With `sampleTree`, samples the RSS of the process and its descendants meanwhile.
 */
export async function runTimed(
  cmd: BenchCommand,
  options: { readonly cwd: string; readonly sampleTree?: boolean },
): Promise<TimedRun> {
  const stdinFd = cmd.stdinFile ? openSync(cmd.stdinFile, 'r') : undefined;
  const stdoutFd = cmd.stdoutFile ? openSync(cmd.stdoutFile, 'w') : undefined;
  const started = performance.now();
  const cpuBefore = waitedChildrenCpuSeconds();
  const child = spawn(cmd.program, [...cmd.args], {
    cwd: options.cwd,
    env: { ...process.env, ...cmd.env },
    stdio: [stdinFd ?? 'ignore', stdoutFd ?? 'pipe', 'pipe'],
  });
  if (stdinFd !== undefined) closeSync(stdinFd);
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  const sampler = options.sampleTree && child.pid !== undefined ? TreeSampler.start(child.pid) : undefined;
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (data: Buffer) => stdout.push(data));
  child.stderr?.on('data', (data: Buffer) => stderr.push(data));
  let summary: TreeSummary | undefined;
  let exit: [number | null, NodeJS.Signals | null];
  try {
    exit = await new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
  } finally {
    summary = sampler?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuSeconds = waitedChildrenCpuSeconds() - cpuBefore;
  const [code, signal] = exit;
  const out = Buffer.concat(stdout).toString('utf8');
  const err = Buffer.concat(stderr).toString('utf8');
  if (code !== 0) {
    const status = signal ? `signal ${signal}` : `exit ${code ?? '?'}`;
    const tail = `${out}\n${err}`.trim().split('\n').slice(-20).join('\n');
    throw new CommandFailed(formatCommand(cmd, options.cwd), status, seconds, tail);
  }
  return {
    seconds,
    cpuSeconds,
    stdout: out,
    stderr: err,
    ...(summary && child.pid !== undefined
      ? {
          tree: {
            peakTreeRssBytes: summary.peakTreeRssBytes,
            peakTreeRssWithoutForksBytes: summary.peakTreeRssWithoutForksBytes,
            peakTreePssBytes: summary.peakTreePssBytes,
            samplerCpuSeconds: summary.samplerCpuSeconds,
            programs: summarizePrograms(summary, child.pid),
          },
        }
      : {}),
  };
}

export interface BenchContext {
  readonly projectDir: string;
  readonly labFile: string;
  readonly cleanDir: string;
  readonly workDir: string;
  readonly log: (line: string) => void;
}

export interface HostResult {
  readonly host: string;
  readonly status: string;
  readonly seconds: number;
}

export interface BakeRun {
  readonly seconds: number;
  /** User + system CPU of the bake and every process it ran. */
  readonly cpuSeconds: number;
  readonly hosts: readonly HostResult[];
  readonly commandLine: string;
  /** Max over the samples of the summed RSS of the bake process and its descendants. */
  readonly peakTreeRssBytes?: number;
  /** The same without children caught between fork and exec (they share the parent's pages). */
  readonly peakTreeRssWithoutForksBytes?: number;
  /** The same with shared pages counted once (PSS). */
  readonly peakTreePssBytes?: number;
  /** CPU the bench spent sampling /proc during this bake (it competes with the bake). */
  readonly samplerCpuSeconds?: number;
  /** The bake's own node process: process.resourceUsage().maxRSS at exit. */
  readonly nodeMaxRssBytes?: number;
  readonly programs?: readonly ProgramTime[];
  /** Seconds per stage, as the bake reports them (`stages` in its --json). */
  readonly stages?: Readonly<Record<string, number>>;
}

export function bakeCommand(
  context: BenchContext,
  outDir: string,
  hosts: readonly string[],
  maxRssFile?: string,
  changed: BakeChange = {},
): BenchCommand {
  return {
    program: process.execPath,
    args: [
      '--import',
      'tsx',
      ...(maxRssFile ? ['--import', './bench/record-max-rss.ts'] : []),
      ...(changed.projectDir
        ? ['bench/bake-in-project.ts', path.relative(context.projectDir, changed.projectDir)]
        : ['scripts/bake.ts']),
      ...hosts,
      '--lab',
      path.relative(context.projectDir, changed.labFile ?? context.labFile),
      '--clean',
      path.relative(context.projectDir, context.cleanDir),
      '--out',
      path.relative(context.projectDir, outDir),
      '--json',
    ],
    ...(maxRssFile ? { env: { BENCH_MAX_RSS_FILE: maxRssFile } } : {}),
  };
}

/** A bake of changed inputs: another lab file, or a project dir with other recipes and overlays. */
export interface BakeChange {
  readonly labFile?: string;
  readonly projectDir?: string;
}

/**
 * Runs the real bake CLI and checks that every selected host ended as `expect`
 * (`baked` from scratch, `unchanged` on a re-bake): a timing of a failed bake means nothing.
 */
export async function runBake(
  context: BenchContext,
  options: {
    readonly outDir: string;
    readonly hosts: readonly string[];
    /** What every host must end as; a host in `unchanged` is expected unchanged whatever this says. */
    readonly expect: 'baked' | 'unchanged';
    readonly unchanged?: readonly string[];
    readonly expectCount: number;
    readonly fresh: boolean;
    readonly memory?: boolean;
    readonly changed?: BakeChange;
  },
): Promise<BakeRun> {
  if (options.fresh) await rm(options.outDir, { recursive: true, force: true });
  const maxRssFile = options.memory ? path.join(context.workDir, 'bake-max-rss.txt') : undefined;
  if (maxRssFile) await rm(maxRssFile, { force: true });
  const cmd = bakeCommand(context, options.outDir, options.hosts, maxRssFile, options.changed);
  const commandLine = formatCommand(cmd);
  const run = await runTimed(cmd, { cwd: context.projectDir, sampleTree: options.memory ?? false });
  const result = JSON.parse(run.stdout) as {
    ok: boolean;
    hosts: HostResult[];
    stages?: Record<string, number>;
  };
  const hosts = result.hosts.map(({ host, status, seconds }) => ({ host, status, seconds }));
  const expected = (host: string) => (options.unchanged?.includes(host) ? 'unchanged' : options.expect);
  const unexpected = hosts.filter((host) => host.status !== expected(host.host));
  if (!result.ok || unexpected.length > 0 || hosts.length !== options.expectCount) {
    throw new Error(
      `${commandLine}: expected ${options.expectCount} hosts ${options.expect}${options.unchanged ? ` but ${options.unchanged.join(' ')} unchanged` : ''}, got ${hosts.map((h) => `${h.host} ${h.status}`).join(', ')}`,
    );
  }
  const nodeMaxRssKiB = maxRssFile ? Number((await readFile(maxRssFile, 'utf8')).trim()) : undefined;
  return {
    seconds: run.seconds,
    cpuSeconds: run.cpuSeconds,
    hosts,
    commandLine,
    ...(run.tree
      ? {
          peakTreeRssBytes: run.tree.peakTreeRssBytes,
          peakTreeRssWithoutForksBytes: run.tree.peakTreeRssWithoutForksBytes,
          peakTreePssBytes: run.tree.peakTreePssBytes,
          samplerCpuSeconds: run.tree.samplerCpuSeconds,
          programs: run.tree.programs.slice(0, 15),
        }
      : {}),
    ...(nodeMaxRssKiB ? { nodeMaxRssBytes: nodeMaxRssKiB * 1024 } : {}),
    ...(result.stages ? { stages: result.stages } : {}),
  };
}

export interface BaselineStep {
  readonly partition: string;
  readonly step: 'decompress' | 'copy' | 'recompress';
  readonly seconds: number;
  readonly cpuSeconds: number;
}

export interface BaselineRun {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly steps: readonly BaselineStep[];
  readonly commandLines: readonly string[];
}

/** `-i 0` images: one `<part>.<fs>-ptcl-img.gz` file per partition. */
export async function partitionImages(cleanDir: string): Promise<string[]> {
  return (await readdir(cleanDir)).filter((name) => /-ptcl-img\.gz$/.test(name)).sort();
}

/**
 * What a whole-image-per-host tool pays for one host: every partition image decompressed, copied
 * and compressed again like the source (`-z1p`: pigz --fast -b 1024 --rsyncable, no name or time).
 */
export async function runBaseline(context: BenchContext): Promise<BaselineRun> {
  const dir = path.join(context.workDir, 'baseline');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const steps: BaselineStep[] = [];
  const commandLines: string[] = [];
  try {
    for (const image of await partitionImages(context.cleanDir)) {
      const raw = path.join(dir, `${image}.raw`);
      const copy = path.join(dir, `${image}.copy`);
      const plan: [BaselineStep['step'], BenchCommand][] = [
        [
          'decompress',
          { program: 'pigz', args: ['-dc', path.join(context.cleanDir, image)], stdoutFile: raw },
        ],
        ['copy', { program: 'cp', args: [raw, copy] }],
        [
          'recompress',
          {
            program: 'pigz',
            args: ['--fast', '-b', '1024', '--rsyncable', '-n'],
            stdinFile: copy,
            stdoutFile: path.join(dir, image),
          },
        ],
      ];
      for (const [step, cmd] of plan) {
        commandLines.push(formatCommand(cmd, context.projectDir));
        const run = await runTimed(cmd, { cwd: context.projectDir });
        steps.push({ partition: image, step, seconds: run.seconds, cpuSeconds: run.cpuSeconds });
      }
      await rm(raw);
      await rm(copy);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const total = (key: 'seconds' | 'cpuSeconds') => steps.reduce((sum, step) => sum + step[key], 0);
  return { seconds: total('seconds'), cpuSeconds: total('cpuSeconds'), steps, commandLines };
}

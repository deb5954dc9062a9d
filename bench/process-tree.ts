import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One process seen in the tree: an exec gives a new entry (same pid, new program). */
export interface SeenProcess {
  readonly pid: number;
  readonly program: string;
  readonly argv: readonly string[];
  /** Seconds since sampling started. */
  readonly firstSeen: number;
  lastSeen: number;
  maxRssBytes: number;
}

export interface TreeSummary {
  readonly samples: number;
  readonly peakTreeRssBytes: number;
  /**
   * The same sum leaving out children caught between fork and exec: their RSS is the parent's
   * pages, shared copy-on-write, so the plain sum counts those pages twice.
   */
  readonly peakTreeRssWithoutForksBytes: number;
  /** Seconds since sampling started at which the peak was seen. */
  readonly peakAt: number;
  /** The same sum with shared pages split between their sharers (PSS), so counted once. */
  readonly peakTreePssBytes: number;
  /** CPU time the sampling itself took, in this process. */
  readonly samplerCpuSeconds: number;
  readonly processes: readonly SeenProcess[];
}

interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly startTime: string;
  readonly rssPages: number;
}

const PAGE_BYTES = readPageSize();

function readPageSize(): number {
  try {
    return Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096;
  } catch {
    return 4096;
  }
}

/** `/proc/PID/stat`; comm sits in parentheses and may itself hold spaces or parentheses. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited between readdir and read
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, starttime field 22, rss field 24.
  return {
    pid,
    comm,
    state: fields[0] ?? '',
    ppid: Number(fields[1]),
    startTime: fields[19] ?? '',
    rssPages: Number(fields[21] ?? 0),
  };
}

function readPssBytes(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function readArgv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Samples the RSS of a process and all its descendants from /proc every `intervalMs`: the sum over
 * the tree at each sample, and every process seen with its lifetime, which shows where a run's time goes.
 * Reads are synchronous so that one sample is one consistent pass.
 */
export class TreeSampler {
  private readonly seen = new Map<string, SeenProcess>();
  private readonly started = performance.now();
  private readonly timer: NodeJS.Timeout;
  private samples = 0;
  private peak = 0;
  private peakWithoutForks = 0;
  private peakAt = 0;
  private peakPss = 0;
  private lastPssAt = Number.NEGATIVE_INFINITY;
  private cpuMicros = 0;

  private constructor(
    private readonly rootPid: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  static start(rootPid: number, intervalMs = 100): TreeSampler {
    return new TreeSampler(rootPid, intervalMs);
  }

  stop(): TreeSummary {
    clearInterval(this.timer);
    return {
      samples: this.samples,
      peakTreeRssBytes: this.peak,
      peakTreeRssWithoutForksBytes: this.peakWithoutForks,
      peakAt: this.peakAt,
      peakTreePssBytes: this.peakPss,
      samplerCpuSeconds: this.cpuMicros / 1e6,
      processes: [...this.seen.values()],
    };
  }

  private sample(): void {
    const cpu = process.cpuUsage();
    this.takeSample();
    const used = process.cpuUsage(cpu);
    this.cpuMicros += used.user + used.system;
  }

  private takeSample(): void {
    const now = (performance.now() - this.started) / 1000;
    const children = new Map<number, ProcStat[]>();
    const byPid = new Map<number, ProcStat>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const stat = readStat(Number(name));
      if (!stat) continue;
      byPid.set(stat.pid, stat);
      const siblings = children.get(stat.ppid);
      if (siblings) siblings.push(stat);
      else children.set(stat.ppid, [stat]);
    }
    const root = byPid.get(this.rootPid);
    // Right after spawn the root may still be a copy of this process, not yet the program asked for.
    if (!root || isForkBeforeExec(root, byPid)) return;
    this.samples++;
    let total = 0;
    let withoutForks = 0;
    const live: ProcStat[] = [];
    const queue = [root];
    for (let next = queue.pop(); next; next = queue.pop()) {
      queue.push(...(children.get(next.pid) ?? []));
      if (next.state === 'Z') continue; // exited, not yet reaped: holds no memory
      const bytes = next.rssPages * PAGE_BYTES;
      const forked = next !== root && isForkBeforeExec(next, byPid);
      total += bytes;
      if (!forked) withoutForks += bytes;
      live.push(next);
      this.record(next, bytes, now, forked);
    }
    if (total > this.peak) {
      this.peak = total;
      this.peakAt = now;
    }
    this.peakWithoutForks = Math.max(this.peakWithoutForks, withoutForks);
    // smaps_rollup walks the page tables (~15 ms for a 250 MB node): only near the RSS peak, once a second.
    if (total >= 0.9 * this.peak && now - this.lastPssAt >= 1) {
      this.lastPssAt = now;
      this.peakPss = Math.max(
        this.peakPss,
        live.reduce((sum, stat) => sum + readPssBytes(stat.pid), 0),
      );
    }
  }

  private record(stat: ProcStat, rssBytes: number, now: number, forked: boolean): void {
    const key = `${stat.pid}:${stat.startTime}:${stat.comm}:${forked ? 'fork' : 'exec'}`;
    const known = this.seen.get(key);
    if (known) {
      known.lastSeen = now;
      known.maxRssBytes = Math.max(known.maxRssBytes, rssBytes);
      return;
    }
    const argv = readArgv(stat.pid);
    this.seen.set(key, {
      pid: stat.pid,
      program: forked ? '(fork before exec)' : argv[0] ? path.basename(argv[0]) : stat.comm,
      argv,
      firstSeen: now,
      lastSeen: now,
      maxRssBytes: rssBytes,
    });
  }
}

/** A child between fork and exec still has its parent's name and argv (and shares its pages). */
function isForkBeforeExec(stat: ProcStat, byPid: ReadonlyMap<number, ProcStat>): boolean {
  const parent = byPid.get(stat.ppid);
  if (!parent || parent.comm !== stat.comm) return false;
  return readArgv(stat.pid).join('\0') === readArgv(parent.pid).join('\0');
}

export interface ProgramTime {
  readonly program: string;
  readonly count: number;
  /** Summed lifetimes as sampled (each process counts at least one interval). */
  readonly seconds: number;
  readonly maxRssBytes: number;
}

/** Child processes grouped by program, longest-running first; the root process itself is left out. */
export function summarizePrograms(
  summary: TreeSummary,
  rootPid: number,
  intervalSeconds = 0.1,
): ProgramTime[] {
  const byProgram = new Map<string, { count: number; seconds: number; maxRssBytes: number }>();
  for (const process of summary.processes) {
    if (process.pid === rootPid) continue;
    const entry = byProgram.get(process.program) ?? { count: 0, seconds: 0, maxRssBytes: 0 };
    entry.count++;
    entry.seconds += process.lastSeen - process.firstSeen + intervalSeconds;
    entry.maxRssBytes = Math.max(entry.maxRssBytes, process.maxRssBytes);
    byProgram.set(process.program, entry);
  }
  return [...byProgram]
    .map(([program, entry]) => ({ program, ...entry }))
    .sort((a, b) => b.seconds - a.seconds);
}

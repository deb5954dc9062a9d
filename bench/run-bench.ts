import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive } from '../src/exec/is-process-alive.ts';
import { type BakeRun, type BenchContext, runBake, runBaseline } from './measure.ts';
import { buildReport, type BenchReport, type RunResult } from './report.ts';
import { benchHosts, benchPaths, ensureCleanImage, writeBenchLab, writeRootChanges } from './setup.ts';

export interface BenchOptions {
  readonly projectDir: string;
  readonly runs: number;
  /** Nodes in the smaller bake that the marginal cost per node is measured against. */
  readonly subsetNodes: number;
  readonly log: (line: string) => void;
}

/** Setup (cached), then `runs` passes over every measurement, interleaved so that noise spreads evenly. */
export async function runBench(options: BenchOptions): Promise<{ report: BenchReport; resultsFile: string }> {
  const { projectDir, log } = options;
  const paths = benchPaths(projectDir);
  const releaseLock = await acquireBenchLock(paths.benchDir);
  try {
    const startedAt = new Date().toISOString();
    const loadStart = readLoad();
    const srcDigestStart = await digestTree(path.join(projectDir, 'src'));
    log(`load at start: ${loadStart}`);
    const setup = await ensureCleanImage(projectDir, log);
    const labFile = await writeBenchLab(projectDir);
    await mkdir(paths.workDir, { recursive: true });
    const context: BenchContext = {
      projectDir,
      labFile,
      cleanDir: paths.cleanDir,
      workDir: paths.workDir,
      log,
    };
    const { router, nodes } = benchHosts();
    const changes = await writeRootChanges(projectDir, paths.workDir, labFile);
    const outDir = (name: string) => path.join(paths.benchDir, 'out', name);
    const timed = async (label: string, bake: () => Promise<BakeRun>): Promise<BakeRun> => {
      const result = await bake();
      log(`    ${label}: ${result.seconds.toFixed(2)} s`);
      return result;
    };

    const [oneNode, ...restNodes] = nodes.slice(options.subsetNodes);
    if (oneNode === undefined || restNodes.length === 0)
      throw new Error(
        `--subset-nodes ${options.subsetNodes}: leave at least two of the ${nodes.length} nodes out`,
      );
    const results: RunResult[] = [];
    for (let run = 1; run <= options.runs; run++) {
      log(`run ${run}/${options.runs}`);
      const baseline = await runBaseline(context);
      log(`    baseline per host: ${baseline.seconds.toFixed(2)} s`);
      const full = await timed('full bake, 11 hosts', () =>
        runBake(context, {
          outDir: outDir('full'),
          hosts: [],
          expect: 'baked',
          expectCount: nodes.length + 1,
          fresh: true,
          memory: true,
        }),
      );
      const rebake = await timed('no-change re-bake, 11 hosts', () =>
        runBake(context, {
          outDir: outDir('full'),
          hosts: [],
          expect: 'unchanged',
          expectCount: nodes.length + 1,
          fresh: false,
        }),
      );
      // The commonest edit while a lab grows: a root filesystem value of the router, then an
      // overlay file every node shares, each re-baked into the baked lab.
      const routerChange = await timed(`router root change (DHCP lease), ${router}`, () =>
        runBake(context, {
          outDir: outDir('full'),
          hosts: [router],
          expect: 'baked',
          expectCount: 1,
          fresh: false,
          changed: { labFile: changes.labFile },
        }),
      );
      const nodesChange = await timed(`shared root change (sshd drop-in), ${nodes.length} nodes`, () =>
        runBake(context, {
          outDir: outDir('full'),
          hosts: nodes,
          expect: 'baked',
          expectCount: nodes.length,
          fresh: false,
          changed: { projectDir: changes.projectDir },
        }),
      );
      await rm(outDir('full'), { recursive: true, force: true });
      // Sampled like the full bake, so that the two carry the same sampling overhead: the marginal cost is their difference.
      const subsetHosts = [router, ...nodes.slice(0, options.subsetNodes)];
      const subset = await timed(`bake ${subsetHosts.join(' ')}`, () =>
        runBake(context, {
          outDir: outDir('subset'),
          hosts: subsetHosts,
          expect: 'baked',
          expectCount: subsetHosts.length,
          fresh: true,
          memory: true,
        }),
      );
      // Nodes added to a baked lab, as a user adds pi4: only they are baked, and they find their root
      // filesystem already built. One node, then the rest: both bakes pay the same start-up and
      // clean boot partition, so their difference is what the extra nodes cost.
      const addedOne = await timed(`add ${oneNode} to that bake`, () =>
        runBake(context, {
          outDir: outDir('subset'),
          hosts: [oneNode],
          expect: 'baked',
          expectCount: 1,
          fresh: false,
          memory: true,
        }),
      );
      const addedRest = await timed(`add ${restNodes.length} nodes to that bake`, () =>
        runBake(context, {
          outDir: outDir('subset'),
          hosts: [],
          expect: 'baked',
          unchanged: [...subsetHosts, oneNode],
          expectCount: nodes.length + 1,
          fresh: false,
          memory: true,
        }),
      );
      await rm(outDir('subset'), { recursive: true, force: true });
      const routerRun = await timed(`bake ${router}`, () =>
        runBake(context, {
          outDir: outDir('router'),
          hosts: [router],
          expect: 'baked',
          expectCount: 1,
          fresh: true,
          memory: true,
        }),
      );
      await rm(outDir('router'), { recursive: true, force: true });
      const firstNode = nodes[0] ?? 'pi1';
      const nodeRun = await timed(`bake ${firstNode}`, () =>
        runBake(context, {
          outDir: outDir('node'),
          hosts: [firstNode],
          expect: 'baked',
          expectCount: 1,
          fresh: true,
          memory: true,
        }),
      );
      await rm(outDir('node'), { recursive: true, force: true });
      results.push({
        run,
        baseline,
        full,
        rebake,
        routerChange,
        nodesChange,
        subset,
        addedOne,
        addedRest,
        router: routerRun,
        node: nodeRun,
      });
      // Kept as they come: a failure in a later run or in the report leaves the earlier figures.
      await writeFile(path.join(paths.workDir, 'runs.json'), `${JSON.stringify(results, null, 2)}\n`);
    }

    const loadEnd = readLoad();
    log(`load at end: ${loadEnd}`);
    const report = buildReport(results, {
      environment: {
        startedAt,
        loadStart,
        loadEnd,
        cpus: os.cpus().length,
        node: process.version,
        commit: gitCommit(projectDir),
        srcDigestStart,
        srcDigestEnd: await digestTree(path.join(projectDir, 'src')),
      },
      setup,
      nodeCount: nodes.length,
      subsetNodes: options.subsetNodes,
    });
    return { report, resultsFile: paths.resultsFile };
  } finally {
    await releaseLock();
  }
}

/** Machines are shared: the load average says how noisy the figures are. */
function readLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return os.loadavg().join(' ');
  }
}

function gitCommit(projectDir: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: projectDir,
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** Other people edit src/ while the bench runs: a digest at start and end shows whether the runs mixed versions. */
async function digestTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (current: string): Promise<void> => {
    const entries = (await readdir(current, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) hash.update(`${path.relative(dir, full)}\0`).update(await readFile(full));
    }
  };
  await walk(dir);
  return hash.digest('hex').slice(0, 16);
}

/** One bench at a time per checkout: two would share .bench/ and time each other. */
async function acquireBenchLock(benchDir: string): Promise<() => Promise<void>> {
  await mkdir(benchDir, { recursive: true });
  const lock = path.join(benchDir, 'lock');
  try {
    await mkdir(lock);
  } catch {
    const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => '0'));
    if (owner > 0 && isProcessAlive(owner)) {
      throw new Error(
        `another bench (pid ${owner}) is running in this checkout; wait for it, or remove ${lock} if it is gone`,
      );
    }
    await rm(lock, { recursive: true, force: true });
    await mkdir(lock);
  }
  await writeFile(path.join(lock, 'pid'), `${process.pid}\n`);
  return () => rm(lock, { recursive: true, force: true });
}

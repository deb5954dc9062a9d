import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeError, InterruptedError, UserError } from '../errors.ts';
import { interruptionSignal } from '../exec/run-command.ts';
import { readClonezillaImage } from '../clonezilla/read-image.ts';
import type { Lab } from '../lab/lab-types.ts';
import { selectRecipeHosts } from '../lab/select-hosts.ts';
import { FatPrefixes } from '../pack/fat-prefix.ts';
import { MemberIndexes } from '../pack/member-index.ts';
import { MemberStore } from '../pack/member-store.ts';
import { BAKE_TOOLS, readToolVersions, verifyHostTools } from '../tools/host-tools.ts';
import { assertRestorable } from '../clonezilla/check-restorable.ts';
import { assembleHostImage } from './assemble-host-image.ts';
import { loadBakeCache, saveBakeCache } from './bake-cache.ts';
import type { BakeReporter, HostOutcome } from './bake-events.ts';
import type { CleanImageFacts, HostPlan } from './bake-types.ts';
import {
  type BuildContext,
  type BuiltPartition,
  buildBootPartition,
  buildRootVariant,
} from './build-partitions.ts';
import { describePlan } from './describe-plan.ts';
import { findBuiltVariant } from './find-built-variant.ts';
import { isCurrent } from './is-current.ts';
import { acquireOutputLock, recoverInterruptedBakes } from './output-directory.ts';
import { planHost } from './plan-host.ts';
import { prepareHostInputs } from './prepare-host-inputs.ts';
import { readCleanFacts } from './read-clean-facts.ts';
import { StageTimes } from '../values/stage-times.ts';
import { adoptEarlierMembers, pruneUnheldIndexes } from './earlier-members.ts';
import { KeptPartitions } from './kept-partitions.ts';
import { isOutOfSpace, outOfSpaceError } from './out-of-space.ts';
import { DamagedCleanImage, Workspace } from './workspace.ts';
import { createLimiter, mapBounded } from '../values/map-bounded.ts';

/**
 * Two clones at a time keep both cores busy (one clone's partclone, checker and packer overlap
 * poorly) and bound the memory: each holds partclone's 10 MiB buffers and the packer's.
 */
const CLONES_IN_PARALLEL = 2;
/** Boot partitions in the making at once: a third copies and edits while two clone. */
const BOOTS_IN_PARALLEL = 3;

export interface BakeOptions {
  readonly lab: Lab;
  readonly projectDir: string;
  readonly hosts: readonly string[];
  readonly cleanDir: string;
  readonly outDir: string;
  readonly dryRun: boolean;
  readonly reporter: BakeReporter;
  /** FAT and ext4 times in the images; pinned so that the same inputs give the same bytes. */
  readonly pinnedTime: number;
}

export interface BakeResult {
  readonly outcomes: readonly HostOutcome[];
  readonly ok: boolean;
  /** Seconds per stage, summed over partitions (see StageTimes). */
  readonly stages: StageTimes;
}

/** Checks everything that can be checked, plans every host, then bakes those whose inputs changed. */
export async function runBake(options: BakeOptions): Promise<BakeResult> {
  await verifyHostTools(BAKE_TOOLS);
  const hosts = selectRecipeHosts(options.lab, options.hosts, 'bake');
  const tools = await readToolVersions();
  const hostInputs = await prepareHostInputs(options.lab, hosts, options.projectDir);
  const image = await readClonezillaImage(options.cleanDir);
  await assertRestorable(
    image,
    'Save the clean image again with `ocs-sr … savedisk` (README "Use your own clean image"), or make one from a disk image with `npm run import`.',
  );
  const cache = await loadBakeCache(options.outDir);

  const stages = new StageTimes();
  let workspace: Workspace | undefined;
  const openWorkspace = async (): Promise<Workspace> => {
    if (!workspace) {
      const base = options.dryRun ? os.tmpdir() : options.outDir;
      await mkdir(base, { recursive: true });
      workspace = await Workspace.create(base, {
        times: stages,
        ...(options.dryRun ? {} : { kept: KeptPartitions.in(options.outDir) }),
      });
    }
    return workspace;
  };
  let releaseLock: (() => Promise<void>) | undefined;
  const createsOutDir = !options.dryRun && !(await exists(options.outDir));
  try {
    if (!options.dryRun) {
      await mkdir(options.outDir, { recursive: true });
      releaseLock = await acquireOutputLock(options.outDir);
      await recoverInterruptedBakes(options.outDir);
    }
    const facts = await readCleanFacts(image, cache, openWorkspace);
    if (!options.dryRun) {
      const kept = KeptPartitions.in(options.outDir);
      await kept.pruneExcept([facts.boot, facts.root].map((p) => kept.fileFor(p, facts.fileDigests)));
    }
    const plans = hostInputs.map((inputs) => planHost(facts, inputs, tools));
    if (!options.dryRun) await saveBakeCache(options.outDir, cache);
    const outcomes: HostOutcome[] = [];
    const pending: HostPlan[] = [];
    for (const plan of plans) {
      if (await isCurrent(path.join(options.outDir, plan.host), plan.inputKey)) {
        const outcome: HostOutcome = {
          host: plan.host,
          status: 'unchanged',
          version: plan.imageVersion,
          seconds: 0,
        };
        outcomes.push(outcome);
        options.reporter.finished(outcome);
      } else {
        pending.push(plan);
      }
    }
    if (options.dryRun) {
      for (const plan of pending) {
        const outcome: HostOutcome = {
          host: plan.host,
          status: 'planned',
          version: plan.imageVersion,
          seconds: 0,
          changes: describePlan(plan, facts),
        };
        outcomes.push(outcome);
        options.reporter.finished(outcome);
      }
      return { outcomes: sortLike(plans, outcomes), ok: true, stages };
    }
    if (pending.length > 0)
      outcomes.push(...(await bakeHosts(pending, facts, await openWorkspace(), options)));
    return {
      outcomes: sortLike(plans, outcomes),
      ok: outcomes.every((o) => o.status !== 'failed'),
      stages,
    };
  } catch (error) {
    if (!options.dryRun && !(error instanceof UserError) && isOutOfSpace(error))
      throw await outOfSpaceError(options.outDir);
    throw error;
  } finally {
    await workspace?.dispose();
    await releaseLock?.();
    // A bake that fails before any host is baked leaves no new --out directory behind.
    if (createsOutDir && (await holdsOnlyBakeState(options.outDir)))
      await rm(options.outDir, { recursive: true, force: true });
  }
}

/** Only the bake's own dot files (cache, lock, scratch): no host image, no user file. */
async function holdsOnlyBakeState(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch(() => []);
  return entries.every((entry) => entry.startsWith('.bake'));
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function sortLike(plans: readonly HostPlan[], outcomes: readonly HostOutcome[]): HostOutcome[] {
  const order = new Map(plans.map((plan, index) => [plan.host, index]));
  return [...outcomes].sort((a, b) => (order.get(a.host) ?? 0) - (order.get(b.host) ?? 0));
}

/**
 * Nodes sharing root edits share one re-cloned root image; every host gets its own boot image.
 * Every root variant starts at once, and while the clean root filesystem is restored for them (a
 * long step that leaves a core mostly idle), the hosts' boot partitions are built.
 */
async function bakeHosts(
  plans: readonly HostPlan[],
  facts: CleanImageFacts,
  workspace: Workspace,
  options: BakeOptions,
): Promise<HostOutcome[]> {
  const store = await MemberStore.create(workspace.path('members.bin'));
  const indexes = MemberIndexes.in(options.outDir);
  await adoptEarlierMembers(options.outDir, indexes, store);
  const fatPrefixes = new Map<string, FatPrefixes>();
  const fatPrefixesOf = (cleanFile: string): FatPrefixes => {
    let found = fatPrefixes.get(cleanFile);
    if (!found) {
      found = FatPrefixes.of(cleanFile, workspace.path(`prefix-${path.basename(cleanFile)}.log`));
      fatPrefixes.set(cleanFile, found);
    }
    return found;
  };
  const inCloneSlot = createLimiter(CLONES_IN_PARALLEL);
  const inBootSlot = createLimiter(BOOTS_IN_PARALLEL);
  const context = (host: string): BuildContext => ({
    facts,
    workspace,
    store,
    indexes,
    fatPrefixes: fatPrefixesOf,
    pinnedTime: options.pinnedTime,
    inCloneSlot,
    onBytes: (raw) => options.reporter.bytes(host, raw),
  });
  const rootVariants = new Map<string, Promise<BuiltPartition>>();
  for (const plan of plans) {
    const variant = plan.rootVariant;
    if (!variant || rootVariants.has(variant.key)) continue;
    const built = findBuiltVariant(options.outDir, facts.root.device, variant.key, workspace.dir).then(
      (found) => found ?? buildRootVariant(context(plan.host), variant),
    );
    // Every host of the variant awaits it and reports its failure; this only keeps a failure that
    // no host waits for (they all failed before) from being an unhandled rejection.
    built.catch(() => undefined);
    rootVariants.set(variant.key, built);
  }
  try {
    // Every host starts at once: the boot and clone slots bound the work, and a host that waits
    // for its root variant holds neither.
    return await mapBounded(plans, plans.length, async (plan): Promise<HostOutcome> => {
      const started = performance.now();
      try {
        const boot = await inBootSlot(() => {
          options.reporter.stage(plan.host, 'boot partition');
          return buildBootPartition(context(plan.host), plan.host, plan.bootEdits);
        });
        let root: BuiltPartition | undefined;
        if (plan.rootVariant) {
          options.reporter.stage(plan.host, 'root filesystem');
          root = await rootVariants.get(plan.rootVariant.key);
        }
        options.reporter.stage(plan.host, 'writing image');
        const manifest = await workspace.times.time('assemble', () =>
          assembleHostImage(options.outDir, plan, facts, { boot, root }),
        );
        const outcome: HostOutcome = {
          host: plan.host,
          status: 'baked',
          version: plan.imageVersion,
          seconds: (performance.now() - started) / 1000,
          partitions: Object.fromEntries(
            Object.entries(manifest.partitions).map(([device, record]) => [device, record.action]),
          ),
        };
        options.reporter.finished(outcome);
        return outcome;
      } catch (error) {
        if (isInterruption(error)) throw new InterruptedError(interruptionSignal() ?? 'SIGINT');
        if (error instanceof DamagedCleanImage) throw error;
        if (isOutOfSpace(error)) throw await outOfSpaceError(options.outDir);
        const outcome: HostOutcome = {
          host: plan.host,
          status: 'failed',
          seconds: (performance.now() - started) / 1000,
          error: describeError(error),
        };
        options.reporter.finished(outcome);
        return outcome;
      }
    });
  } finally {
    // Nothing may still write into the scratch space when it is removed.
    await Promise.allSettled(rootVariants.values());
    await store.close();
    await pruneUnheldIndexes(options.outDir, indexes);
  }
}

/** After Ctrl-C every failure is a consequence of the interruption, not a host's own failure. */
function isInterruption(error: unknown): boolean {
  return error instanceof InterruptedError || interruptionSignal() !== undefined;
}

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { PartitionImage } from '../clonezilla/read-image.ts';
import { partitionImageBaseName } from '../clonezilla/partition-image-name.ts';
import { runCommand } from '../exec/run-command.ts';
import { command } from '../exec/command.ts';
import { cloneAndPack } from '../pack/clone-and-pack.ts';
import type { FatPrefixes } from '../pack/fat-prefix.ts';
import type { MemberIndexes } from '../pack/member-index.ts';
import type { MemberStore } from '../pack/member-store.ts';
import { applyBootEdits } from './apply-boot-edits.ts';
import { applyRootEdits } from './apply-root-edits.ts';
import type { CleanImageFacts, FileEdit, RootVariant } from './bake-types.ts';
import type { Limiter } from '../values/map-bounded.ts';
import type { Workspace } from './workspace.ts';

export interface BuiltPartition {
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
  /** The root variant it was built for. */
  readonly variant?: string;
}

export interface BuildContext {
  readonly facts: CleanImageFacts;
  readonly workspace: Workspace;
  readonly store: MemberStore;
  /** Header and bitmap makers for edited copies of a clean FAT32, one per clean file. */
  readonly fatPrefixes: (cleanFile: string) => FatPrefixes;
  /** Where the members of each written gzip image are listed for later bakes. */
  readonly indexes: MemberIndexes;
  readonly pinnedTime: number;
  /** Runs a partclone clone, checker and packer when one of the bake's clone slots is free. */
  readonly inCloneSlot: Limiter;
  readonly onBytes?: (raw: number) => void;
}

/** A sparse copy: a FAT or ext4 image is mostly holes. */
async function copySparse(source: string, target: string): Promise<void> {
  await runCommand(command('cp', ['--sparse=always', source, target]));
}

export async function buildBootPartition(
  context: BuildContext,
  host: string,
  edits: readonly FileEdit[],
): Promise<BuiltPartition> {
  const { facts, workspace } = context;
  const partition = facts.boot;
  const clean = await workspace.restoredPartition(facts.image.dir, partition, facts.fileDigests);
  const edited = workspace.path(`${host}-boot.img`);
  const files = workspace.path(`${host}-boot-files`);
  try {
    await workspace.times.time('copy', () => copySparse(clean, edited));
    await workspace.times.time('edits', () => applyBootEdits(edited, edits, files, context.pinnedTime));
    return await clonePartition(context, edited, path.join(workspace.dir, `${host}-out`), partition, {
      prefix: partition.fs === 'vfat' ? () => context.fatPrefixes(clean).prefixFor(edited) : undefined,
    });
  } finally {
    await removeScratch(edited, files);
  }
}

export async function buildRootVariant(context: BuildContext, variant: RootVariant): Promise<BuiltPartition> {
  const { facts, workspace } = context;
  const partition = facts.root;
  const clean = await workspace.restoredPartition(facts.image.dir, partition, facts.fileDigests);
  const id = variant.key.slice(0, 16);
  const edited = workspace.path(`root-${id}.img`);
  const files = workspace.path(`root-${id}-files`);
  try {
    await workspace.times.time('copy', () => copySparse(clean, edited));
    await workspace.times.time('edits', () => applyRootEdits(edited, variant, files, context.pinnedTime));
    // A root filesystem is the long pole of a bake: its clone goes ahead of waiting boot partitions.
    const built = await clonePartition(
      context,
      edited,
      path.join(workspace.dir, `root-${id}-out`),
      partition,
      {
        ahead: true,
      },
    );
    return { ...built, variant: variant.key };
  } finally {
    await removeScratch(edited, files);
  }
}

/**
 * An edited copy is done with once cloned: removed at once, its blocks are freed and, when that is
 * soon enough, never written back to disk (the other hosts' bakes are spared that I/O).
 */
async function removeScratch(...paths: string[]): Promise<void> {
  for (const scratch of paths) await rm(scratch, { recursive: true, force: true });
}

async function clonePartition(
  context: BuildContext,
  source: string,
  outDir: string,
  partition: PartitionImage,
  options: {
    readonly ahead?: boolean;
    readonly prefix?: (() => Promise<Buffer | undefined>) | undefined;
  } = {},
): Promise<BuiltPartition> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, partitionImageBaseName(partition.device, partition.fs, partition.codec));
  const packed = await context.inCloneSlot(
    () =>
      cloneAndPack({
        fs: partition.fs,
        sourceFile: source,
        output: file,
        codec: partition.codec,
        store: context.store,
        workDir: outDir,
        onBytes: context.onBytes,
        times: context.workspace.times,
        ...(options.prefix ? { prefix: options.prefix } : {}),
      }),
    { ahead: options.ahead },
  );
  context.workspace.times.countChunks(packed.chunks, packed.newChunks);
  if (packed.members.length > 0) await context.indexes.write(packed.fileSha256, packed.members);
  return { file, sha256: packed.fileSha256, size: packed.fileBytes };
}

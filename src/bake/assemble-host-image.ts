import { createHash } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { restoreProblems } from '../clonezilla/check-restorable.ts';
import { type PartitionImage, readClonezillaImage } from '../clonezilla/read-image.ts';
import type { CleanImageFacts, FileEdit, HostPlan } from './bake-types.ts';
import type { BuiltPartition } from './build-partitions.ts';
import {
  type Manifest,
  type ManifestFile,
  MANIFEST_FILE,
  MANIFEST_SCHEMA,
  type PartitionRecord,
  writeManifest,
} from '../image/manifest.ts';
import { linkOrCopy, stagingDirectory, swapIntoPlace } from './output-directory.ts';

export interface HostPartitions {
  readonly boot: BuiltPartition;
  /** undefined: the recipe leaves the root filesystem as it is in the clean image. */
  readonly root: BuiltPartition | undefined;
}

/**
 * Lays out a complete Clonezilla image directory for the host beside the output, then swaps it in.
 * Files the plan does not change (metadata: same disk identifier and table; untouched partition
 * images) are hard links to the clean image's files.
 */
export async function assembleHostImage(
  outDir: string,
  plan: HostPlan,
  facts: CleanImageFacts,
  partitions: HostPartitions,
): Promise<Manifest> {
  const staging = stagingDirectory(outDir, plan.host);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const files: Record<string, ManifestFile> = {};
    const partitionRecords: Record<string, PartitionRecord> = {};
    const partitionFiles = new Set(facts.image.partitions.flatMap((p) => p.files));
    for (const name of facts.image.files) {
      if (partitionFiles.has(name) || name === MANIFEST_FILE) continue;
      await linkOrCopy(path.join(facts.image.dir, name), path.join(staging, name));
      files[name] = await cleanFileRecord(facts, name);
    }
    for (const partition of facts.image.partitions) {
      const built = builtFor(partition, facts, partitions);
      if (built) {
        const name = path.basename(built.file);
        await linkOrCopy(built.file, path.join(staging, name));
        files[name] = { sha256: built.sha256, size: built.size };
        partitionRecords[partition.device] = {
          action: 'rebaked',
          files: [name],
          ...(built.variant ? { variant: built.variant } : {}),
        };
      } else {
        for (const name of partition.files) {
          await linkOrCopy(path.join(facts.image.dir, name), path.join(staging, name));
          files[name] = await cleanFileRecord(facts, name);
        }
        partitionRecords[partition.device] = { action: 'reused', files: [...partition.files] };
      }
    }
    const manifest: Manifest = {
      schema: MANIFEST_SCHEMA,
      host: plan.host,
      recipe: plan.recipe,
      version: plan.imageVersion,
      inputKey: plan.inputKey,
      inputs: plan.inputs,
      partitions: partitionRecords,
      written: writtenFiles(plan, facts),
      files,
    };
    await writeManifest(staging, manifest);
    const problems = await restoreProblems(await readClonezillaImage(staging));
    if (problems.length > 0)
      throw new Error(
        `the image assembled for ${plan.host} would not restore, so its previous image is kept: ${problems.join(' ')}`,
      );
    await swapIntoPlace(outDir, plan.host, staging);
    return manifest;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

function builtFor(
  partition: PartitionImage,
  facts: CleanImageFacts,
  partitions: HostPartitions,
): BuiltPartition | undefined {
  if (partition.device === facts.boot.device) return partitions.boot;
  if (partition.device === facts.root.device) return partitions.root;
  return undefined;
}

async function cleanFileRecord(facts: CleanImageFacts, name: string): Promise<ManifestFile> {
  const sha256 = facts.fileDigests.get(name);
  if (!sha256) throw new Error(`no digest for ${name}`);
  return { sha256, size: (await stat(path.join(facts.image.dir, name))).size };
}

/** Per re-cloned partition, each path the plan writes and what it holds. */
function writtenFiles(plan: HostPlan, facts: CleanImageFacts): Record<string, Record<string, string>> {
  const describe = (edit: FileEdit): string =>
    `sha256:${createHash('sha256').update(edit.content).digest('hex')} ${edit.mode.toString(8).padStart(4, '0')} ${edit.uid}:${edit.gid}`;
  const written: Record<string, Record<string, string>> = {
    [facts.boot.device]: Object.fromEntries(plan.bootEdits.map((edit) => [edit.path, describe(edit)])),
  };
  if (plan.rootVariant) {
    const entries: [string, string][] = [
      ...plan.rootVariant.files.map((edit): [string, string] => [edit.path, describe(edit)]),
      ...plan.rootVariant.symlinks.map((link): [string, string] => [link.path, `-> ${link.linkTo}`]),
    ];
    written[facts.root.device] = Object.fromEntries(entries);
  }
  return written;
}

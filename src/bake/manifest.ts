import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestInputs } from './bake-types.ts';

export const MANIFEST_FILE = 'pi-lab-manifest.json';

export interface ManifestFile {
  readonly sha256: string;
  readonly size: number;
}

export interface PartitionRecord {
  readonly action: 'rebaked' | 'reused';
  readonly files: readonly string[];
  /** A root variant's key: a later bake of the same variant links this image instead of cloning. */
  readonly variant?: string;
}

export interface Manifest {
  readonly schema: 1;
  readonly host: string;
  readonly recipe: string;
  readonly version: string;
  readonly inputKey: string;
  readonly inputs: ManifestInputs;
  readonly partitions: Readonly<Record<string, PartitionRecord>>;
  /**
   * What the bake wrote into each re-cloned partition, by path: `sha256:<hex> <mode> <uid>:<gid>`
   * for a file, `-> <target>` for a symlink. What a review of a change reads.
   */
  readonly written: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Every file of the image directory but this manifest, with its sha256 and size. */
  readonly files: Readonly<Record<string, ManifestFile>>;
}

/**
 * Stable key order and no timestamps: the same bake writes the same bytes. The top level keeps the
 * order above (what a reader looks for first); every map below it is sorted by key, so the order in
 * which parallel work filled a map never shows.
 */
export function renderManifest(manifest: Manifest): string {
  const sortedBelowTop = function (this: unknown, key: string, value: unknown): unknown {
    if (key === '' || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  };
  return `${JSON.stringify(manifest, sortedBelowTop, 2)}\n`;
}

export async function readManifest(imageDir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(path.join(imageDir, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

/** Cheap check for "unchanged": same inputs and every file present with its size (no re-hashing). */
export async function isCurrent(imageDir: string, inputKey: string): Promise<boolean> {
  const manifest = await readManifest(imageDir);
  if (manifest?.inputKey !== inputKey) return false;
  for (const [name, file] of Object.entries(manifest.files)) {
    const info = await stat(path.join(imageDir, name)).catch(() => undefined);
    if (info?.size !== file.size) return false;
  }
  return true;
}

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { parseContractJson } from './contract-json.ts';
import { compareCodeUnits } from '../values/code-unit-order.ts';

/** The manifest of one host image: what bake writes and publish, the share, CI and deploy read. */
export const MANIFEST_FILE = 'pi-lab-manifest.json';
export const MANIFEST_SCHEMA = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex');
const stringMap = z.record(z.string(), z.string());

const manifestInputsSchema = z.object({
  cleanImage: z.object({ name: z.string(), id: z.string() }),
  labEntry: z.string(),
  recipe: z.string(),
  overlays: stringMap,
  tools: stringMap,
  pipeline: z.string(),
});

const partitionRecordSchema = z.object({
  action: z.enum(['rebaked', 'reused']),
  files: z.array(z.string()),
  /** A root variant's key: a later bake of the same variant links this image instead of cloning. */
  variant: z.string().optional(),
});

const manifestSchema = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  host: z.string().min(1),
  recipe: z.string(),
  version: z.string().min(1),
  inputKey: z.string(),
  inputs: manifestInputsSchema,
  partitions: z.record(z.string(), partitionRecordSchema),
  /**
   * What the bake wrote into each re-cloned partition, by path: `sha256:<hex> <mode> <uid>:<gid>`
   * for a file, `-> <target>` for a symlink. What a review of a change reads.
   */
  written: z.record(z.string(), stringMap),
  /** Every file of the image directory but this manifest, with its sha256 and size. */
  files: z.record(z.string(), z.object({ sha256, size: z.number().int().nonnegative() })),
});

type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

export type Manifest = DeepReadonly<z.infer<typeof manifestSchema>>;
export type ManifestInputs = Manifest['inputs'];
export type ManifestFile = Manifest['files'][string];
export type PartitionRecord = Manifest['partitions'][string];

/**
 * Parses a manifest read from `where` (a path or a place on the share or a disk). A manifest that
 * is damaged, or written by a pi-lab with another schema, is refused with what to do.
 */
export function parseManifest(text: string, where: string): Manifest {
  return parseContractJson(text, {
    where,
    what: 'pi-lab manifest',
    schema: manifestSchema,
    version: { field: 'schema', expected: MANIFEST_SCHEMA },
    remedy: 'bake the host again with this pi-lab (npm run bake -- HOST), then publish it',
  });
}

/**
 * Stable key order and no timestamps: the same bake writes the same bytes. The top level keeps the
 * schema's order (what a reader looks for first); every map below it is sorted by key, so the order
 * in which parallel work filled a map never shows.
 */
export function renderManifest(manifest: Manifest): string {
  const sortedBelowTop = function (this: unknown, key: string, value: unknown): unknown {
    if (key === '' || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => compareCodeUnits(a, b)));
  };
  return `${JSON.stringify(manifest, sortedBelowTop, 2)}\n`;
}

/** The manifest of an image directory; undefined when the directory holds none. */
export async function readManifest(imageDir: string): Promise<Manifest | undefined> {
  const file = path.join(imageDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseManifest(text, file);
}

export async function writeManifest(imageDir: string, manifest: Manifest): Promise<void> {
  await writeFile(path.join(imageDir, MANIFEST_FILE), renderManifest(manifest));
}

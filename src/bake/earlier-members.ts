import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../image/manifest.ts';
import type { MemberIndexes } from '../pack/member-index.ts';
import type { MemberStore } from '../pack/member-store.ts';
import { readUsableManifest } from './is-current.ts';

/** Every host image in the output directory, with its manifest (damaged ones left out). */
async function hostImages(outDir: string): Promise<{ dir: string; manifest: Manifest }[]> {
  const entries = await readdir(outDir, { withFileTypes: true }).catch(() => []);
  const found: { dir: string; manifest: Manifest }[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(outDir, entry.name);
    const manifest = await readUsableManifest(dir);
    if (manifest) found.push({ dir, manifest });
  }
  return found;
}

/**
 * Lets the store serve the gzip members of every image file in the output directory that has an
 * index: the next root change compresses only the chunks it touched. A file is adopted once
 * however many hosts link it.
 */
export async function adoptEarlierMembers(
  outDir: string,
  indexes: MemberIndexes,
  store: MemberStore,
): Promise<void> {
  const adopted = new Set<string>();
  for (const { dir, manifest } of await hostImages(outDir)) {
    for (const [name, file] of Object.entries(manifest.files)) {
      if (!name.endsWith('.gz') || adopted.has(file.sha256)) continue;
      adopted.add(file.sha256);
      const members = await indexes.read(file.sha256);
      if (members.length > 0) await store.adopt(path.join(dir, name), members);
    }
  }
}

/** Drops the indexes of image files no host image in the output directory holds any more. */
export async function pruneUnheldIndexes(outDir: string, indexes: MemberIndexes): Promise<void> {
  const held = (await hostImages(outDir)).flatMap(({ manifest }) =>
    Object.values(manifest.files).map((file) => file.sha256),
  );
  await indexes.pruneExcept(held);
}

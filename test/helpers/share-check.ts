import { createHash } from 'node:crypto';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Manifest, MANIFEST_FILE, parseManifest } from '../../src/image/manifest.ts';

/** What a host's current image on a share directory is, read with plain fs calls (as an imager would). */
export interface CurrentImage {
  readonly version: string;
  readonly dir: string;
  readonly manifest: Manifest;
  /** Files whose sha256 differs from the manifest's, or that are missing. */
  readonly mismatches: readonly string[];
}

export async function currentImage(shareDir: string, host: string): Promise<CurrentImage> {
  const link = await readlink(path.join(shareDir, host));
  const dir = path.resolve(shareDir, link);
  const manifestFile = path.join(dir, MANIFEST_FILE);
  const manifest = parseManifest(await readFile(manifestFile, 'utf8'), manifestFile);
  const mismatches: string[] = [];
  for (const [name, file] of Object.entries(manifest.files)) {
    const bytes = await readFile(path.join(dir, name)).catch(() => undefined);
    if (!bytes || createHash('sha256').update(bytes).digest('hex') !== file.sha256) mismatches.push(name);
  }
  return { version: manifest.version, dir, manifest, mismatches };
}

/** inode of a host's current file: equal inodes mean one stored copy. */
export async function inodeOf(shareDir: string, host: string, file: string): Promise<number> {
  return (await stat(path.join(shareDir, host, file))).ino;
}

/** Stored objects no version uses, and versions per host. */
export async function shareInventory(shareDir: string): Promise<{
  objects: string[];
  versions: Record<string, string[]>;
  incoming: string[];
}> {
  const state = path.join(shareDir, '.pi-lab');
  const list = (dir: string) => readdir(dir).catch(() => [] as string[]);
  const versions: Record<string, string[]> = {};
  for (const host of await list(path.join(state, 'hosts'))) {
    const entries = await list(path.join(state, 'hosts', host));
    versions[host] = entries.filter((name) => name !== 'history.json').sort();
  }
  return {
    objects: (await list(path.join(state, 'objects'))).sort(),
    versions,
    incoming: await list(path.join(state, 'incoming')),
  };
}

/** Objects that no version's manifest lists (there should be none after a publish). */
export async function unreferencedObjects(shareDir: string): Promise<string[]> {
  const { objects, versions } = await shareInventory(shareDir);
  const used = new Set<string>();
  for (const [host, list] of Object.entries(versions)) {
    for (const version of list) {
      const manifestFile = path.join(shareDir, '.pi-lab/hosts', host, version, MANIFEST_FILE);
      const manifest = parseManifest(await readFile(manifestFile, 'utf8'), manifestFile);
      for (const file of Object.values(manifest.files)) used.add(file.sha256);
    }
  }
  return objects.filter((object) => !used.has(object));
}

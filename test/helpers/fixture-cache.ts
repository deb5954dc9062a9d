import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withSlot } from './dir-lock.ts';
import { isProcessAlive } from './temp-dir.ts';

/*
 * One directory per key, built once per machine and shared by every ava worker. A mkdir lock keeps
 * two workers from building the same entry; an entry appears by rename only once complete, with a
 * manifest of its files' hashes so that an entry a test wrote into is detected and rebuilt.
 */

const MANIFEST = '.manifest.json';
const LOCK_WAIT_MS = 15 * 60 * 1000;

export function hashInputs(parts: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(createHash('sha256').update(part).digest());
  return hash.digest('hex').slice(0, 16);
}

/** Returns the entry's directory, building it with `build(tempDir)` first if it is missing or damaged. */
export async function cachedEntry(
  entryDir: string,
  build: (buildDir: string) => Promise<void>,
): Promise<string> {
  if (await isIntact(entryDir)) return entryDir;
  await mkdir(path.dirname(entryDir), { recursive: true });
  await withSlot(`${entryDir}.lock`, 1, LOCK_WAIT_MS, async () => {
    if (await isIntact(entryDir)) return;
    await rm(entryDir, { recursive: true, force: true });
    await removeAbandonedBuilds(entryDir);
    const buildDir = `${entryDir}.building-${process.pid}`;
    await mkdir(buildDir);
    try {
      await build(buildDir);
      await writeManifest(buildDir);
      await makeReadOnly(buildDir);
      await rename(buildDir, entryDir);
    } catch (error) {
      await rm(buildDir, { recursive: true, force: true });
      throw error;
    }
  });
  return entryDir;
}

/** Build dirs of processes that died mid-build (a killed worker never reaches its catch). */
async function removeAbandonedBuilds(entryDir: string): Promise<void> {
  const prefix = `${path.basename(entryDir)}.building-`;
  for (const name of await readdir(path.dirname(entryDir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid === process.pid || !isProcessAlive(pid)) {
      await rm(path.join(path.dirname(entryDir), name), { recursive: true, force: true });
    }
  }
}

async function listFiles(dir: string, relative = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, relative), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = path.join(relative, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(dir, rel)));
    else if (rel !== MANIFEST) files.push(rel);
  }
  return files;
}

/** Above this, size and mtime stand in for the content: hashing a 240 MB sample disk per worker is too slow. */
const HASHED_BYTES = 32 * 1024 * 1024;

async function digestFiles(dir: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const file of await listFiles(dir)) {
    const full = path.join(dir, file);
    const { size, mtimeMs } = await stat(full);
    digests[file] =
      size > HASHED_BYTES
        ? `size ${size} mtime ${mtimeMs}`
        : createHash('sha256')
            .update(await readFile(full))
            .digest('hex');
  }
  return digests;
}

async function writeManifest(dir: string): Promise<void> {
  await writeFile(path.join(dir, MANIFEST), JSON.stringify(await digestFiles(dir), null, 2));
}

const verified = new Set<string>();

async function isIntact(dir: string): Promise<boolean> {
  if (verified.has(dir)) return true;
  const manifest = await readFile(path.join(dir, MANIFEST), 'utf8').catch(() => undefined);
  if (manifest === undefined) return false;
  // An entry being replaced by another process can lose files while they are read.
  const digests = await digestFiles(dir).catch(() => undefined);
  const intact = digests !== undefined && JSON.stringify(digests, null, 2) === manifest;
  if (intact) verified.add(dir);
  return intact;
}

/** A signal more than a guard (root ignores it): cached entries are sources, never work dirs. */
async function makeReadOnly(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeReadOnly(full);
    else await chmod(full, (await stat(full)).mode & 0o555);
  }
  await chmod(dir, 0o555);
}

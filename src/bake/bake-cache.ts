import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { BootFiles } from './bake-types.ts';
import type { DigestCacheEntry } from './file-digests.ts';
import { writeFileAtomically } from './write-atomically.ts';

/** What a bake remembers between runs so that a no-change re-bake touches no partition. */
export interface BakeCache {
  readonly digests: Map<string, DigestCacheEntry>;
  /** Boot facts per clean image id. */
  readonly cleanImages: Map<string, CachedCleanFacts>;
}

export interface CachedCleanFacts {
  readonly bootDevice: string;
  readonly rootDevice: string;
  readonly bootFiles: BootFiles;
}

const CACHE_FILE = '.bake-cache.json';

export async function loadBakeCache(outDir: string): Promise<BakeCache> {
  try {
    const raw = JSON.parse(await readFile(path.join(outDir, CACHE_FILE), 'utf8')) as {
      digests?: Record<string, DigestCacheEntry>;
      cleanImages?: Record<string, CachedCleanFacts>;
    };
    return {
      digests: new Map(Object.entries(raw.digests ?? {})),
      cleanImages: new Map(Object.entries(raw.cleanImages ?? {})),
    };
  } catch {
    return { digests: new Map(), cleanImages: new Map() };
  }
}

export async function saveBakeCache(outDir: string, cache: BakeCache): Promise<void> {
  const body = {
    digests: Object.fromEntries(cache.digests),
    cleanImages: Object.fromEntries(cache.cleanImages),
  };
  await writeFileAtomically(path.join(outDir, CACHE_FILE), JSON.stringify(body));
}

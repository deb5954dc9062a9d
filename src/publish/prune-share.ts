import type { ShareFs } from '../share/share-fs.ts';
import { readHostsOnShare, readVersionManifest } from '../share/read-share-state.ts';
import { OBJECTS_DIR, objectPath, SEGMENTS_DIR, segmentsPath, versionDir } from '../share/share-layout.ts';

export interface PruneResult {
  readonly removedVersions: readonly string[];
  readonly removedObjects: number;
}

/**
 * Keeps the `keep` newest versions of each host (the current one always), then removes stored
 * files no remaining version uses. Runs under the share lock.
 */
export async function pruneShare(share: ShareFs, keep: number): Promise<PruneResult> {
  const removedVersions: string[] = [];
  const used = new Set<string>();
  for (const host of await readHostsOnShare(share)) {
    const kept = new Set(host.versions.slice(0, keep).map((v) => v.version));
    if (host.current) kept.add(host.current);
    for (const { version } of host.versions) {
      if (kept.has(version)) {
        const manifest = await readVersionManifest(share, host.host, version);
        // A version whose manifest cannot be read keeps every stored file: never guess what it needs.
        if (!manifest) return { removedVersions, removedObjects: 0 };
        for (const file of Object.values(manifest.files)) used.add(file.sha256);
      } else {
        await share.removeTree(versionDir(host.host, version));
        removedVersions.push(`${host.host}/${version}`);
      }
    }
  }
  let removedObjects = 0;
  for (const entry of await share.list(OBJECTS_DIR)) {
    if (used.has(entry.name)) continue;
    await share.removeTree(segmentsPath(entry.name));
    await share.removeTree(objectPath(entry.name));
    removedObjects++;
  }
  for (const entry of await share.list(SEGMENTS_DIR)) {
    if (!used.has(entry.name.replace(/\.json$/, ''))) await share.removeTree(`${SEGMENTS_DIR}/${entry.name}`);
  }
  return { removedVersions, removedObjects };
}

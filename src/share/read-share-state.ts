import { ContractError } from '../image/contract-json.ts';
import { MANIFEST_FILE, type Manifest, parseManifest } from '../image/manifest.ts';
import type { ShareFs } from './share-fs.ts';
import {
  currentLink,
  hostVersionsDir,
  OBJECTS_DIR,
  PUBLISHED_FILE,
  type PublishedRecord,
  STATE_DIR,
  versionDir,
  versionOfLink,
} from './share-layout.ts';

export interface PublishedVersion {
  readonly version: string;
  /** Missing for a version whose record cannot be read (it sorts last). */
  readonly record?: PublishedRecord;
}

export interface HostOnShare {
  readonly host: string;
  /** The version the host's name points at. */
  readonly current?: string;
  /** A real directory (or file) under the host's name that pi-lab did not put there. */
  readonly unmanaged: boolean;
  /** Newest first. */
  readonly versions: readonly PublishedVersion[];
}

/** What the share holds for each host: its versions (newest first) and which one is current. */
export async function readHostsOnShare(share: ShareFs, hosts?: readonly string[]): Promise<HostOnShare[]> {
  const names = hosts ?? (await share.list(`${STATE_DIR}/hosts`)).map((entry) => entry.name);
  const result: HostOnShare[] = [];
  for (const host of names) result.push(await readHostOnShare(share, host));
  return result;
}

export async function readHostOnShare(share: ShareFs, host: string): Promise<HostOnShare> {
  const link = await share.lstat(currentLink(host));
  const target = link?.type === 'symlink' ? await share.readlink(currentLink(host)) : undefined;
  const current = target === undefined ? undefined : versionOfLink(host, target);
  const versions: PublishedVersion[] = [];
  for (const entry of await share.list(hostVersionsDir(host))) {
    if (entry.type !== 'directory') continue;
    const record = parseRecord(await share.readText(`${versionDir(host, entry.name)}/${PUBLISHED_FILE}`));
    versions.push(record ? { version: entry.name, record } : { version: entry.name });
  }
  versions.sort((a, b) => (b.record?.publishedAt ?? '').localeCompare(a.record?.publishedAt ?? ''));
  return {
    host,
    ...(current === undefined ? {} : { current }),
    unmanaged: link !== undefined && current === undefined,
    versions,
  };
}

export async function readSharedObjects(share: ShareFs): Promise<Map<string, number>> {
  const entries = await share.list(OBJECTS_DIR);
  return new Map(entries.filter((e) => e.type === 'file').map((e) => [e.name, e.size]));
}

export async function readVersionManifest(
  share: ShareFs,
  host: string,
  version: string,
): Promise<Manifest | undefined> {
  const text = await share.readText(`${versionDir(host, version)}/${MANIFEST_FILE}`);
  if (text === undefined) return undefined;
  try {
    return parseManifest(text, `${share.description}/${versionDir(host, version)}/${MANIFEST_FILE}`);
  } catch (error) {
    // Damaged or of another schema: the version is treated as incomplete, never guessed at.
    if (error instanceof ContractError) return undefined;
    throw error;
  }
}

/** Every file its manifest lists is there with its size: the version can be made current. */
export async function missingFilesOf(share: ShareFs, host: string, version: string): Promise<string[]> {
  const manifest = await readVersionManifest(share, host, version);
  if (!manifest) return [MANIFEST_FILE];
  const present = new Map(
    (await share.list(versionDir(host, version))).map((entry) => [entry.name, entry.size]),
  );
  return Object.entries(manifest.files)
    .filter(([name, file]) => present.get(name) !== file.size)
    .map(([name]) => name);
}

function parseRecord(text: string | undefined): PublishedRecord | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as PublishedRecord;
  } catch {
    return undefined;
  }
}

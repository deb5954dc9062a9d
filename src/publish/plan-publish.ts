import path from 'node:path';
import type { Manifest } from '../image/manifest.ts';
import type { HostOnShare } from '../share/read-share-state.ts';

/** A baked image directory, read locally. */
export interface LocalImage {
  readonly host: string;
  readonly dir: string;
  readonly manifest: Manifest;
  readonly manifestText: string;
}

export type HostAction =
  /** The version is current on the share already. */
  | 'unchanged'
  /** The version is on the share (published earlier): only the current link changes. */
  | 'switch'
  /** New files go up and a new version directory is assembled. */
  | 'upload';

export interface HostPublishPlan {
  readonly host: string;
  readonly version: string;
  readonly previous?: string;
  readonly action: HostAction;
  readonly image: LocalImage;
}

export interface ObjectUpload {
  readonly sha256: string;
  readonly size: number;
  readonly localFile: string;
  /** `host/file` names that share these bytes, for messages. */
  readonly usedBy: readonly string[];
}

export interface PublishPlan {
  readonly hosts: readonly HostPublishPlan[];
  /** Files the share lacks, each once however many hosts and names share it. */
  readonly uploads: readonly ObjectUpload[];
  readonly uploadBytes: number;
}

/** Pure: what goes up and what changes, from the local images and what the share already holds. */
export function planPublish(
  images: readonly LocalImage[],
  onShare: ReadonlyMap<string, HostOnShare>,
  objects: ReadonlyMap<string, number>,
): PublishPlan {
  const uploads = new Map<string, { sha256: string; size: number; localFile: string; usedBy: string[] }>();
  const hosts = images.map((image): HostPublishPlan => {
    const { host, version } = image.manifest;
    const state = onShare.get(host);
    const previous = state?.current;
    const base = { host, version, image, ...(previous === undefined ? {} : { previous }) };
    if (previous === version) return { ...base, action: 'unchanged' };
    if (state?.versions.some((v) => v.version === version)) return { ...base, action: 'switch' };
    for (const [name, file] of Object.entries(image.manifest.files)) {
      if (objects.get(file.sha256) === file.size) continue;
      const known = uploads.get(file.sha256);
      if (known) known.usedBy.push(`${host}/${name}`);
      else
        uploads.set(file.sha256, {
          sha256: file.sha256,
          size: file.size,
          localFile: path.join(image.dir, name),
          usedBy: [`${host}/${name}`],
        });
    }
    return { ...base, action: 'upload' };
  });
  const list = [...uploads.values()].sort((a, b) => b.size - a.size || a.sha256.localeCompare(b.sha256));
  return { hosts, uploads: list, uploadBytes: list.reduce((sum, upload) => sum + upload.size, 0) };
}

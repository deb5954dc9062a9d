import type { Manifest } from '../image/manifest.ts';

/** A block device as `lsblk -J -b -o NAME,PKNAME,TYPE,SIZE,MOUNTPOINT` reports it (children flattened). */
export interface BlockDevice {
  readonly name: string;
  readonly parent?: string;
  readonly type: string;
  readonly size: number;
  readonly mountpoint?: string;
}

export interface MountInfo {
  readonly source: string;
  readonly target: string;
  readonly fstype: string;
}

/** What preflight reads on the imager, all read-only; evaluated by checkImager. */
export interface ImagerFacts {
  readonly hostname: string;
  readonly root?: MountInfo;
  readonly boot?: MountInfo;
  readonly devices: readonly BlockDevice[];
  readonly tools: ReadonlySet<string>;
  readonly imageRootMount?: MountInfo;
  /** The image's manifest as the share holds it, or why it could not be read. */
  readonly image: { readonly manifest: Manifest; readonly diskBytes: number } | { readonly missing: string };
  /** Files whose sha256 on the share differs from the manifest; undefined when not checked. */
  readonly checksumFailures?: readonly string[];
}

interface LsblkNode {
  name?: unknown;
  pkname?: unknown;
  type?: unknown;
  size?: unknown;
  mountpoint?: unknown;
  children?: unknown;
}

export function parseLsblk(json: string): BlockDevice[] {
  const parsed = JSON.parse(json) as { blockdevices?: LsblkNode[] };
  const devices: BlockDevice[] = [];
  const visit = (node: LsblkNode, parent?: string): void => {
    const name = typeof node.name === 'string' ? node.name : '';
    const pkname = typeof node.pkname === 'string' ? node.pkname : parent;
    devices.push({
      name,
      ...(pkname ? { parent: pkname } : {}),
      type: typeof node.type === 'string' ? node.type : '',
      size: typeof node.size === 'number' ? node.size : Number(node.size ?? 0),
      ...(typeof node.mountpoint === 'string' ? { mountpoint: node.mountpoint } : {}),
    });
    if (Array.isArray(node.children)) for (const child of node.children as LsblkNode[]) visit(child, name);
  };
  for (const node of parsed.blockdevices ?? []) visit(node);
  return devices;
}

export function parseFindmnt(json: string): MountInfo | undefined {
  try {
    const parsed = JSON.parse(json) as {
      filesystems?: { source?: string; target?: string; fstype?: string }[];
    };
    const first = parsed.filesystems?.[0];
    if (!first?.source || !first.target) return undefined;
    return { source: first.source, target: first.target, fstype: first.fstype ?? '' };
  } catch {
    return undefined;
  }
}

/** The whole disk a mount's source lives on: `/dev/mmcblk0p2` → `mmcblk0`. */
export function diskOf(source: string | undefined, devices: readonly BlockDevice[]): string | undefined {
  if (!source?.startsWith('/dev/')) return undefined;
  const name = source.slice('/dev/'.length);
  const device = devices.find((d) => d.name === name);
  if (!device) return undefined;
  return device.type === 'part' ? device.parent : device.name;
}

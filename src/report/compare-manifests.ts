import type { Manifest } from '../image/manifest.ts';

export interface Change {
  readonly what: string;
  readonly old?: string;
  readonly new?: string;
}

export interface HostChanges {
  readonly host: string;
  readonly oldVersion?: string;
  readonly newVersion: string;
  readonly partitions: readonly Change[];
  readonly written: readonly Change[];
  readonly inputs: readonly Change[];
}

/** Pure: what changes between the image a host runs (or none) and the one just baked. */
export function compareManifests(old: Manifest | undefined, next: Manifest): HostChanges {
  return {
    host: next.host,
    ...(old ? { oldVersion: old.version } : {}),
    newVersion: next.version,
    partitions: partitionChanges(old, next),
    written: writtenChanges(old, next),
    inputs: diffRecords(flattenInputs(old), flattenInputs(next)),
  };
}

function partitionChanges(old: Manifest | undefined, next: Manifest): Change[] {
  const imageSha = (manifest: Manifest | undefined, device: string): string | undefined => {
    const files = manifest?.partitions[device]?.files ?? [];
    const digests = files.map((file) => manifest?.files[file]?.sha256 ?? '?');
    return digests.length > 0 ? digests.join('+') : undefined;
  };
  const devices = new Set([...Object.keys(old?.partitions ?? {}), ...Object.keys(next.partitions)]);
  return [...devices].sort().flatMap((device): Change[] => {
    const before = imageSha(old, device);
    const after = imageSha(next, device);
    if (before === after) return [];
    const action = next.partitions[device]?.action ?? 'removed';
    return [{ what: `${device} (${action})`, ...opt('old', before), ...opt('new', after) }];
  });
}

function writtenChanges(old: Manifest | undefined, next: Manifest): Change[] {
  const flatten = (manifest: Manifest | undefined): Record<string, string> =>
    Object.fromEntries(
      Object.entries(manifest?.written ?? {}).flatMap(([device, files]) =>
        Object.entries(files).map(([file, value]) => [`${device}:${file}`, value]),
      ),
    );
  return diffRecords(flatten(old), flatten(next));
}

function flattenInputs(manifest: Manifest | undefined): Record<string, string> {
  if (!manifest) return {};
  const { inputs } = manifest;
  return {
    'clean image': `${inputs.cleanImage.name} ${inputs.cleanImage.id}`,
    'lab entry': inputs.labEntry,
    recipe: `${manifest.recipe} ${inputs.recipe}`,
    pipeline: inputs.pipeline,
    ...Object.fromEntries(
      Object.entries(inputs.overlays).map(([name, digest]) => [`overlay ${name}`, digest]),
    ),
    ...Object.fromEntries(Object.entries(inputs.tools).map(([name, version]) => [`tool ${name}`, version])),
  };
}

function diffRecords(old: Record<string, string>, next: Record<string, string>): Change[] {
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);
  return [...keys]
    .sort()
    .flatMap((key): Change[] =>
      old[key] === next[key] ? [] : [{ what: key, ...opt('old', old[key]), ...opt('new', next[key]) }],
    );
}

function opt<K extends 'old' | 'new'>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

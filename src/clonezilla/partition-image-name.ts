/** `<part>.<fs>-ptcl-img.<codec>[.aa|.ab…]`, the partclone image names Clonezilla writes. */

export const CODECS = ['gz', 'zst', 'xz', 'bz2', 'lz4', 'lzo', 'uncomp'] as const;
export type Codec = (typeof CODECS)[number];

export interface PartitionImageName {
  readonly device: string;
  readonly fs: string;
  readonly codec: Codec;
  readonly piece: string | undefined;
}

const NAME = /^(.+?)\.([\w]+)-ptcl-img\.([a-z0-9]+)(?:\.([a-z]{2,}))?$/;

export function parsePartitionImageName(fileName: string): PartitionImageName | undefined {
  const match = NAME.exec(fileName);
  if (!match) return undefined;
  const codec = match[3] as Codec;
  if (!CODECS.includes(codec)) return undefined;
  return { device: match[1] ?? '', fs: match[2] ?? '', codec, piece: match[4] };
}

export function partitionImageBaseName(device: string, fs: string, codec: Codec): string {
  return `${device}.${fs}-ptcl-img.${codec}`;
}

/** Clonezilla's split suffixes: aa, ab, …, az, ba, … (split's default). */
export function pieceSuffix(index: number): string {
  const first = String.fromCharCode(97 + Math.floor(index / 26));
  const second = String.fromCharCode(97 + (index % 26));
  return `${first}${second}`;
}

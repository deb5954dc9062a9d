import path from 'node:path';
import type { Manifest } from '../image/manifest.ts';
import { IMAGE_MARKER_PATH, type ImageMarker, parseMarker } from '../image/marker.ts';
import { parseSfdiskDump, partitionDeviceName, type PartitionTable } from '../clonezilla/partition-table.ts';
import type { RemoteHost } from './remote-port.ts';
import type { ImageLocation } from './image-location.ts';
import { dumpPartitionTable, readFatFile, readFileCommand } from './remote-commands.ts';

export interface WrittenDisk {
  readonly table: string;
  readonly imageTable: string;
  readonly marker: string | undefined;
  /** First-boot file name → content, as read from the restored boot partition. */
  readonly firstBoot: Readonly<Record<string, string | undefined>>;
}

/** The first-boot files a bake writes the hostname into. */
const FIRST_BOOT_FILES = ['firstrun.sh', 'user-data'] as const;

/** Reads the restored disk back on the imager: its partition table and the boot partition's files. */
export async function readWrittenDisk(
  session: RemoteHost,
  manifest: Manifest,
  image: ImageLocation,
  disk: string,
  timeoutSeconds: number,
): Promise<WrittenDisk> {
  const imageDisk =
    Object.keys(manifest.files)
      .find((name) => name.endsWith('-pt.sf'))
      ?.replace(/-pt\.sf$/, '') ?? 'sda';
  const run = (cmd: Parameters<RemoteHost['exec']>[0]) => session.root.exec(cmd, { timeoutSeconds });
  const table = (await run(dumpPartitionTable(disk))).stdout;
  const imageTable = (await run(readFileCommand(path.posix.join(image.dir, `${imageDisk}-pt.sf`)))).stdout;
  const bootNumber = bootPartitionNumber(manifest);
  const partition = partitionDeviceName(disk, bootNumber);
  const read = async (file: string): Promise<string | undefined> => {
    const result = await run(readFatFile(partition, file));
    return result.exitCode === 0 ? result.stdout : undefined;
  };
  const firstBoot: Record<string, string | undefined> = {};
  for (const file of FIRST_BOOT_FILES) firstBoot[file] = await read(file);
  return { table, imageTable, marker: await read(IMAGE_MARKER_PATH.replace(/^\//, '')), firstBoot };
}

/** The partition the bake wrote the marker into. */
export function bootPartitionNumber(manifest: Manifest): number {
  const device = Object.entries(manifest.written).find(([, files]) => IMAGE_MARKER_PATH in files)?.[0];
  return Number(/(\d+)$/.exec(device ?? '')?.[1] ?? 1);
}

/** Pure: what is wrong with the written disk; empty when it holds this host's image. */
export function checkWrittenDisk(
  written: WrittenDisk,
  expected: { readonly host: string; readonly version: string; readonly placeholder: string },
): string[] {
  const problems: string[] = [];
  const disk = parseSfdiskDump(written.table);
  const image = parseSfdiskDump(written.imageTable);
  problems.push(...compareTables(disk, image));
  let marker: ImageMarker | undefined;
  try {
    marker = written.marker === undefined ? undefined : parseMarker(written.marker, IMAGE_MARKER_PATH);
  } catch {
    marker = undefined;
  }
  if (!marker) problems.push('the boot partition has no readable image marker (pi-lab-image.json)');
  else if (marker.host !== expected.host || marker.version !== expected.version)
    problems.push(
      `the boot partition's marker says ${marker.host} ${marker.version}, expected ${expected.host} ${expected.version}`,
    );
  const files = Object.entries(written.firstBoot).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  if (files.length === 0) problems.push('the boot partition has neither firstrun.sh nor user-data');
  for (const [file, text] of files) {
    if (!new RegExp(`\\b${expected.host}\\b`).test(text))
      problems.push(`${file} does not name ${expected.host}`);
    if (new RegExp(`\\b${expected.placeholder}\\b`).test(text))
      problems.push(`${file} still names the placeholder ${expected.placeholder}`);
  }
  return problems;
}

function compareTables(disk: PartitionTable, image: PartitionTable): string[] {
  const problems: string[] = [];
  const id = (value: string | undefined) => value?.replace(/^0x/i, '').toLowerCase();
  if (id(disk.labelId) !== id(image.labelId))
    problems.push(`disk identifier ${disk.labelId ?? 'none'}, the image has ${image.labelId ?? 'none'}`);
  const describe = (table: PartitionTable) =>
    table.entries.map((e) => `${e.number}: start=${e.startSector} size=${e.sizeSectors} type=${e.type}`);
  if (describe(disk).join('\n') !== describe(image).join('\n'))
    problems.push(
      `partition table ${describe(disk).join('; ') || 'empty'}; the image has ${describe(image).join('; ')}`,
    );
  return problems;
}

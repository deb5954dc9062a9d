/** Parses the `sfdisk -d` dump Clonezilla saves as `<disk>-pt.sf`. */

export interface PartitionEntry {
  readonly device: string;
  readonly number: number;
  readonly startSector: number;
  readonly sizeSectors: number;
  readonly type: string;
}

export interface PartitionTable {
  readonly label: string;
  /** Disk identifier as written by sfdisk (e.g. `0x1234abcd`), or a GPT GUID. */
  readonly labelId: string | undefined;
  readonly sectorSize: number;
  readonly entries: readonly PartitionEntry[];
}

const ENTRY = /^(\S+)\s*:\s*(.*)$/;
const HEADER = /^([\w-]+):\s*(.*)$/;

export function parseSfdiskDump(text: string): PartitionTable {
  const headers = new Map<string, string>();
  const entries: PartitionEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const entry = ENTRY.exec(line);
    if (entry?.[1]?.startsWith('/dev/') || (entry && entry[2]?.includes('start='))) {
      entries.push(parseEntry(entry[1] ?? '', entry[2] ?? ''));
      continue;
    }
    const header = HEADER.exec(line);
    if (header?.[1]) headers.set(header[1], header[2] ?? '');
  }
  return {
    label: headers.get('label') ?? 'dos',
    labelId: headers.get('label-id'),
    sectorSize: Number(headers.get('sector-size') ?? 512),
    entries,
  };
}

function parseEntry(devicePath: string, fields: string): PartitionEntry {
  const values = new Map(
    fields.split(',').map((field) => {
      const [key, value] = field.split('=').map((part) => part.trim());
      return [key ?? '', value ?? ''] as const;
    }),
  );
  const device = devicePath.replace(/^\/dev\//, '');
  return {
    device,
    number: Number(/(\d+)$/.exec(device)?.[1] ?? 0),
    startSector: Number(values.get('start') ?? 0),
    sizeSectors: Number(values.get('size') ?? 0),
    type: values.get('type') ?? '',
  };
}

/** `sda` + 1 → `sda1`; `mmcblk0`/`nvme0n1`/`loop0` + 1 → `…p1` (a `p` after a trailing digit). */
export function partitionDeviceName(disk: string, number: number): string {
  return /\d$/.test(disk) ? `${disk}p${number}` : `${disk}${number}`;
}

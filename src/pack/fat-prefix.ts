import { open } from 'node:fs/promises';
import { readClonePrefix } from './clone-prefix.ts';
import { partcloneCrc, readLayout } from './partclone-stream.ts';

/*
 * partclone.vfat's header and bitmap for an edited copy of a FAT32 filesystem, made here from the
 * prefix partclone wrote for the clean filesystem: partclone.vfat reads the FAT one entry per
 * system call (0.9 s of CPU for a 512 MiB boot partition, most of a node's bake). Its rule: the
 * reserved sectors and the FATs are used; a cluster is used unless its FAT entry is free (0) or
 * bad (0x0FFFFFF7); the sectors after the last whole cluster are used. The rule is first applied
 * to the clean filesystem, and trusted only when that gives partclone's own prefix byte for byte.
 */

const HEADER_BYTES = 110;
const FREE = 0;
const BAD_CLUSTER = 0x0ffffff7;

interface Fat32Geometry {
  readonly sectorSize: number;
  readonly clusterSectors: number;
  readonly reservedSectors: number;
  readonly fatSectors: number;
  readonly fats: number;
  readonly totalSectors: number;
  readonly clusters: number;
}

/** The boot sector's geometry when it is FAT32 as partclone tells it (no FAT16 signature, "FAT32" name). */
function readGeometry(bootSector: Buffer): Fat32Geometry | undefined {
  const fat16Signature = bootSector[38];
  if (fat16Signature === 0x29 || bootSector.toString('latin1', 82, 87) !== 'FAT32') return undefined;
  const sectorSize = bootSector.readUInt16LE(11);
  const clusterSectors = bootSector[13] ?? 0;
  const reservedSectors = bootSector.readUInt16LE(14);
  const fats = bootSector[16] ?? 0;
  const rootEntries = bootSector.readUInt16LE(17);
  const sectors16 = bootSector.readUInt16LE(19);
  const fatSectors16 = bootSector.readUInt16LE(22);
  const totalSectors = sectors16 !== 0 ? sectors16 : bootSector.readUInt32LE(32);
  const fatSectors = fatSectors16 !== 0 ? fatSectors16 : bootSector.readUInt32LE(36);
  if (sectorSize === 0 || clusterSectors === 0 || rootEntries !== 0) return undefined;
  const dataSectors = totalSectors - (reservedSectors + fats * fatSectors);
  if (dataSectors <= 0) return undefined;
  const clusters = Math.floor(dataSectors / clusterSectors);
  return { sectorSize, clusterSectors, reservedSectors, fatSectors, fats, totalSectors, clusters };
}

async function readAt(file: string, position: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  } finally {
    await handle.close();
  }
}

/** The prefix partclone.vfat would write for `fsFile`, with the header fields of `template`. */
async function derivePrefix(fsFile: string, template: Buffer): Promise<Buffer | undefined> {
  const layout = readLayout(template);
  const geometry = readGeometry(await readAt(fsFile, 0, 512));
  if (!layout || !geometry) return undefined;
  const { sectorSize, clusterSectors, reservedSectors, fatSectors, fats, totalSectors, clusters } = geometry;
  if (layout.blockSize !== sectorSize || layout.totalBlocks !== totalSectors) return undefined;
  const fat = await readAt(fsFile, reservedSectors * sectorSize, (clusters + 2) * 4);
  if (fat.length < (clusters + 2) * 4) return undefined;

  const prefix = Buffer.alloc(layout.prefixBytes);
  template.copy(prefix, 0, 0, HEADER_BYTES);
  const bitmap = prefix.subarray(HEADER_BYTES, layout.prefixBytes - 4);
  bitmap.fill(0xff);
  const clear = (block: number): void => {
    bitmap[block >>> 3] = (bitmap[block >>> 3] ?? 0) & ~(1 << (block & 7));
  };
  const firstCluster = reservedSectors + fats * fatSectors;
  for (let cluster = 0; cluster < clusters; cluster++) {
    const entry = fat.readUInt32LE((cluster + 2) * 4);
    if (entry !== FREE && entry !== BAD_CLUSTER) continue;
    const first = firstCluster + cluster * clusterSectors;
    for (let sector = 0; sector < clusterSectors; sector++) clear(first + sector);
  }
  let used = 0;
  for (let block = 0; block < totalSectors; block++)
    if (((bitmap[block >>> 3] ?? 0) & (1 << (block & 7))) !== 0) used++;
  prefix.writeBigUInt64LE(BigInt(used), 68);
  prefix.writeBigUInt64LE(BigInt(used), 76);
  prefix.writeUInt32LE(partcloneCrc(prefix.subarray(0, 106)), 106);
  prefix.writeUInt32LE(partcloneCrc(bitmap), layout.prefixBytes - 4);
  return prefix;
}

/**
 * Prefixes for edited copies of one clean FAT32 filesystem, given the prefix partclone wrote for
 * the clean one. `prefixFor` answers undefined (partclone then clones the copy itself) when the
 * filesystem is not FAT32 or the rule does not give partclone's prefix for the clean filesystem.
 */
export class FatPrefixes {
  private readonly trusted: Promise<boolean>;

  constructor(
    cleanFile: string,
    private readonly cleanPrefix: Promise<Buffer | undefined>,
  ) {
    this.trusted = cleanPrefix
      .then(async (prefix) => {
        if (!prefix) return false;
        const derived = await derivePrefix(cleanFile, prefix);
        return derived?.equals(prefix) ?? false;
      })
      .catch(() => false);
  }

  /** For copies of `cleanFile`, from the prefix partclone.vfat writes for it (`log`: its log). */
  static of(cleanFile: string, log: string): FatPrefixes {
    return new FatPrefixes(cleanFile, readClonePrefix('vfat', cleanFile, log));
  }

  async prefixFor(editedFile: string): Promise<Buffer | undefined> {
    const template = await this.cleanPrefix.catch(() => undefined);
    if (!template || !(await this.trusted)) return undefined;
    return derivePrefix(editedFile, template);
  }
}

import path from 'node:path';
import { UserError } from '../errors.ts';
import type { ClonezillaImage, PartitionImage } from '../clonezilla/read-image.ts';
import { detectFirstBootFormat } from '../firstboot/detect-first-boot.ts';
import { listFatDirectory, readFatFile } from '../tools/mtools.ts';
import type { BakeCache, CachedCleanFacts } from './bake-cache.ts';
import type { BootFiles, CleanImageFacts } from './bake-types.ts';
import { digestOf } from './digest.ts';
import { digestFile } from './file-digests.ts';
import type { Workspace } from './workspace.ts';

/** Facts about the clean image; the boot partition is only restored when they are not cached. */
export async function readCleanFacts(
  image: ClonezillaImage,
  cache: BakeCache,
  workspace: () => Promise<Workspace>,
): Promise<CleanImageFacts> {
  const fileDigests = new Map<string, string>();
  for (const file of image.files)
    fileDigests.set(file, await digestFile(path.join(image.dir, file), cache.digests));
  const id = digestOf([...fileDigests].map(([file, digest]) => `${digest}  ${file}`));
  let cached = cache.cleanImages.get(id);
  if (!cached) {
    cached = await inspectBootPartition(image, fileDigests, await workspace());
    cache.cleanImages.set(id, cached);
  }
  const boot = findPartition(image, cached.bootDevice);
  const root = findPartition(image, cached.rootDevice);
  return { image, id, fileDigests, boot, root, bootFiles: cached.bootFiles };
}

function findPartition(image: ClonezillaImage, device: string): PartitionImage {
  const partition = image.partitions.find((p) => p.device === device);
  if (!partition) throw new Error(`partition ${device} vanished from ${image.dir}`);
  return partition;
}

async function inspectBootPartition(
  image: ClonezillaImage,
  fileDigests: ReadonlyMap<string, string>,
  workspace: Workspace,
): Promise<CachedCleanFacts> {
  const label = image.dir;
  const fatPartitions = image.partitions.filter(
    (p) => p.fs === 'vfat' || p.fs === 'fat32' || p.fs === 'fat16',
  );
  for (const partition of fatPartitions) {
    const fatImage = await workspace.restoredPartition(image.dir, partition, fileDigests);
    const rootFiles = await listFatDirectory(fatImage);
    if (!rootFiles.some((file) => file.toLowerCase() === 'cmdline.txt')) continue;
    const read = async (name: string): Promise<string | undefined> =>
      rootFiles.some((file) => file.toLowerCase() === name)
        ? (await readFatFile(fatImage, `/${name}`)).toString('utf8')
        : undefined;
    const cmdline = (await read('cmdline.txt')) ?? '';
    const format = detectFirstBootFormat({ cmdline, rootFiles }, label);
    const bootFiles: BootFiles = {
      format,
      rootFiles,
      cmdline,
      configTxt: (await read('config.txt')) ?? '',
      firstrun: await read('firstrun.sh'),
      userData: await read('user-data'),
      metaData: await read('meta-data'),
    };
    return { bootDevice: partition.device, rootDevice: findRootDevice(image, cmdline).device, bootFiles };
  }
  throw new UserError(
    `${label} has no FAT boot partition with a cmdline.txt (partitions: ${describe(image)}).`,
    ['A Raspberry Pi OS image has a FAT32 boot partition (bootfs) and an ext4 root partition (rootfs).'],
  );
}

/** The root partition is the one cmdline.txt boots (root=PARTUUID=<disk id>-<NN>), never a fixed number. */
function findRootDevice(image: ClonezillaImage, cmdline: string): PartitionImage {
  const ext4 = image.partitions.filter((p) => p.fs.startsWith('ext'));
  const partuuid = /(?:^|\s)root=PARTUUID=([0-9a-fA-F]{8})-(\d{2})(?:\s|$)/.exec(cmdline);
  const diskId = image.table.labelId?.replace(/^0x/i, '').toLowerCase();
  if (partuuid?.[1] && partuuid[1].toLowerCase() === diskId) {
    const number = Number(partuuid[2]);
    const match = ext4.find((p) => p.entry.number === number);
    if (match) return match;
  }
  if (ext4.length === 1 && ext4[0]) return ext4[0];
  throw new UserError(
    `${image.dir}: cannot tell which partition is the root filesystem (partitions: ${describe(image)}).`,
    [`cmdline.txt should name it with root=PARTUUID=${diskId ?? '<disk id>'}-NN.`],
  );
}

function describe(image: ClonezillaImage): string {
  return image.partitions.map((p) => `${p.device} ${p.fs}`).join(', ') || 'none saved';
}

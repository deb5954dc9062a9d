import type { DeployTarget } from './deploy-target.ts';
import { diskOf, type ImagerFacts } from './imager-facts.ts';

const INSTALL_HINT: Readonly<Record<string, string>> = {
  'ocs-sr': 'clonezilla',
  'partclone.vfat': 'partclone',
  'partclone.ext4': 'partclone',
  sfdisk: 'fdisk',
  sha256sum: 'coreutils',
  mtype: 'mtools',
};

/** lsblk's types of whole block devices (a loop device is one, e.g. a disk image being prepared). */
const WHOLE_DISK_TYPES = new Set(['disk', 'loop']);

/**
 * Pure: every reason not to restore onto this imager's target disk, all at once. An empty list is
 * the only way to the restore step.
 */
export function checkImager(target: DeployTarget, facts: ImagerFacts): string[] {
  const problems: string[] = [];
  const where = `${target.imagerName} (${target.imager.host})`;
  if (facts.hostname !== target.imagerName)
    problems.push(
      `${where} answers as "${facts.hostname}", not as ${target.imagerName}: is this ${target.host}'s imager?`,
    );

  const rootDisk = diskOf(facts.root?.source, facts.devices);
  const bootDisk = diskOf(facts.boot?.source, facts.devices);
  if (rootDisk !== target.sdDisk)
    problems.push(
      `${where} runs from ${rootDisk ?? facts.root?.source ?? 'an unknown device'}, not from its SD card ${target.sdDisk} (imager.sd_disk): is it booted from the right card?`,
    );

  const disk = facts.devices.find((d) => d.name === target.disk);
  if (!disk) {
    const disks = facts.devices.filter((d) => d.type === 'disk').map((d) => d.name);
    problems.push(
      `${where} has no disk ${target.disk} (disks there: ${disks.join(', ') || 'none'}): is the USB disk plugged in? (imager.disk)`,
    );
  } else {
    if (!WHOLE_DISK_TYPES.has(disk.type))
      problems.push(`${where}: ${target.disk} is a ${disk.type}, not a whole disk (imager.disk)`);
    const runsFrom = [rootDisk, bootDisk].includes(target.disk);
    if (runsFrom)
      problems.push(`${where} runs from ${target.disk} itself: refusing to overwrite the disk it runs from`);
    const mounted = facts.devices.filter(
      (d) => (d.name === target.disk || d.parent === target.disk) && d.mountpoint !== undefined,
    );
    if (mounted.length > 0 && !runsFrom)
      problems.push(
        `${where}: ${mounted.map((d) => `${d.name} is mounted at ${d.mountpoint ?? ''}`).join(', ')}; unmount it first (nothing may use the disk being restored)`,
      );
    if ('manifest' in facts.image && disk.size < facts.image.diskBytes)
      problems.push(
        `${where}: ${target.disk} holds ${disk.size} bytes, the image needs ${facts.image.diskBytes} (${target.host}'s disk as it was saved): use a disk at least that big`,
      );
  }

  const missingTools = [...new Set(Object.keys(INSTALL_HINT).filter((tool) => !facts.tools.has(tool)))];
  if (missingTools.length > 0) {
    const packages = [...new Set(missingTools.map((tool) => INSTALL_HINT[tool] ?? tool))];
    problems.push(
      `${where} lacks ${missingTools.join(', ')}: install with \`sudo apt-get install -y ${packages.join(' ')}\` there, then deploy again`,
    );
  }

  if ('missing' in facts.image) problems.push(`${where}: ${facts.image.missing}`);
  else if (facts.image.manifest.host !== target.host)
    problems.push(`${where}: the image under ${target.host} on the share is ${facts.image.manifest.host}'s`);
  if (facts.checksumFailures && facts.checksumFailures.length > 0)
    problems.push(
      `${where}: on the share, ${facts.checksumFailures.join(', ')} ${facts.checksumFailures.length === 1 ? 'does' : 'do'} not match the image's manifest: publish ${target.host} again (npm run publish -- ${target.host})`,
    );
  return problems;
}

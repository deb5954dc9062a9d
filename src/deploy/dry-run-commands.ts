import path from 'node:path';
import { IMAGE_MARKER_PATH } from '../image/marker.ts';
import { partitionDeviceName } from '../clonezilla/partition-table.ts';
import type { Command } from '../exec/command.ts';
import { renderRemoteCommand } from '../ssh/remote-exec.ts';
import { describeEndpoint } from '../ssh/ssh-endpoint.ts';
import type { DeploySettings } from './deploy-settings.ts';
import type { DeployTarget } from './deploy-target.ts';
import { imageLocation } from './image-location.ts';
import {
  asRoot,
  checkSums,
  disableUsbBoot,
  dumpPartitionTable,
  findMount,
  findTools,
  followRestoreJob,
  listBlockDevices,
  mountShare,
  ocsRestoreArgs,
  readBootloaderVersion,
  readFatFile,
  readFileCommand,
  readHostname,
  reboot,
  restoreJobState,
  setOneShotSdBoot,
  startRestoreJob,
} from './remote-commands.ts';
import { ONE_SHOT_BOOT_SINCE } from './send-to-imager.ts';

/**
 * What deploy would run on each machine, in order, for a host that runs from its USB disk now:
 * the same command builders the real run uses. Nothing connects.
 */
export function dryRunCommands(target: DeployTarget, settings: DeploySettings): string[] {
  const image = imageLocation(target.imageRoot, target.host, settings.version);
  const version = settings.version ?? '<current version on the share>';
  const node = describeEndpoint(target.node);
  const imager = describeEndpoint(target.imager);
  const on = (where: string, user: string, cmd: Command, root = false): string =>
    `[${where}] ${renderRemoteCommand(root ? asRoot(user, cmd) : cmd)}`;
  const nodeUser = target.node.user;
  const imagerUser = target.imager.user;
  const lines = [
    `# 1 locate: ask ${node} and ${imager} their names`,
    on(node, nodeUser, readHostname()),
    on(imager, imagerUser, readHostname()),
    `# 2 to the imager (skipped when ${target.imagerName} answers already)`,
    on(node, nodeUser, readBootloaderVersion()),
    `#   bootloader ${ONE_SHOT_BOOT_SINCE} or newer:`,
    on(node, nodeUser, setOneShotSdBoot(), true),
    '#   older bootloader:',
    on(node, nodeUser, disableUsbBoot(), true),
    on(node, nodeUser, reboot(), true),
    `#   then wait until ${imager} answers as ${target.imagerName}`,
    '# 3 preflight (read-only)',
    on(imager, imagerUser, restoreJobState(target.host), true),
    ...(target.nfs
      ? [on(imager, imagerUser, mountShare(target.nfs, target.imageRoot), true) + '   # when not mounted']
      : []),
    on(imager, imagerUser, listBlockDevices()),
    on(imager, imagerUser, findMount('/')),
    on(imager, imagerUser, findMount('/boot/firmware')),
    on(imager, imagerUser, findTools()),
    on(imager, imagerUser, findMount(target.imageRoot)),
    on(imager, imagerUser, readFileCommand(path.posix.join(image.dir, 'pi-lab-manifest.json'))),
    on(imager, imagerUser, checkSums(), true) + '   # stdin: the manifest’s sha256 of every file',
    '# 4 restore (detached from the SSH session; its log is followed)',
    on(
      imager,
      imagerUser,
      startRestoreJob(target.host, version, ocsRestoreArgs(image.root, image.name, target.disk)),
      true,
    ),
    on(imager, imagerUser, followRestoreJob(target.host), true),
    '# 5 verify the written disk',
    on(imager, imagerUser, dumpPartitionTable(target.disk), true),
    on(
      imager,
      imagerUser,
      readFatFile(partitionDeviceName(target.disk, 1), IMAGE_MARKER_PATH.slice(1)),
      true,
    ),
    on(imager, imagerUser, readFatFile(partitionDeviceName(target.disk, 1), 'firstrun.sh'), true),
    '# 6 reboot into the new image and wait for it',
    on(imager, imagerUser, reboot(), true),
    on(node, nodeUser, readHostname()),
    on(node, nodeUser, readFileCommand(path.posix.join('/boot/firmware', IMAGE_MARKER_PATH))),
  ];
  return lines;
}

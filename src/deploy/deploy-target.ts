import type { Lab, LabHost } from '../lab/lab-types.ts';
import { hostEndpoints } from '../ssh/lab-ssh.ts';
import type { SshEndpoint } from '../ssh/ssh-endpoint.ts';
import { isRouter } from '../lab/router-host.ts';

/** Everything deploy needs to know about one host, with the lab file's defaults filled in. */
export interface DeployTarget {
  readonly host: string;
  /** The router goes last and alone: the lab network goes down with it. */
  readonly isRouter: boolean;
  /** The host running from its USB disk, answering as `host`. */
  readonly node: SshEndpoint;
  readonly imagerName: string;
  /** The same machine booted from its SD card, answering as `imagerName`. */
  readonly imager: SshEndpoint;
  /** The disk the imager re-images (sda). */
  readonly disk: string;
  /** The disk the imager runs from (mmcblk0). */
  readonly sdDisk: string;
  /** ocs-sr's image root on the imager, where the share is mounted. */
  readonly imageRoot: string;
  /** What to mount there when it is not mounted yet, e.g. 192.168.87.2:/srv/os_images. */
  readonly nfs?: string;
}

export function resolveDeployTarget(lab: Lab, host: LabHost): DeployTarget {
  const { node, imagerName, imager } = hostEndpoints(lab, host);
  return {
    host: host.name,
    isRouter: isRouter(host),
    node,
    imagerName,
    imager,
    disk: host.imager?.disk ?? 'sda',
    sdDisk: host.imager?.sdDisk ?? 'mmcblk0',
    imageRoot: lab.share?.imageRoot ?? '/home/partimag',
    ...(lab.share?.nfs === undefined ? {} : { nfs: lab.share.nfs }),
  };
}

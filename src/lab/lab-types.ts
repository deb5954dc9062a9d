import type { PlugDriverName } from '../values/plug-driver-name.ts';
import type { ShareTarget } from '../values/share-target.ts';
import type { SshDestination } from '../values/ssh-destination.ts';
/** A lab file, validated and resolved: nothing downstream sees raw YAML. */
export interface Lab {
  /** Absolute path of the lab file. */
  readonly file: string;
  readonly network: LabNetwork;
  readonly image: {
    /** The clean Clonezilla image directory, absolute. */
    readonly clean: string;
    /** The hostname Raspberry Pi Imager was given. */
    readonly placeholder: string;
  };
  readonly share?: LabShare;
  readonly ssh: LabSsh;
  readonly deploy: LabDeploy;
  readonly power?: LabPower;
  readonly hosts: readonly LabHost[];
}

export interface LabPlug {
  readonly name: string;
  readonly driver: PlugDriverName;
  readonly address: string;
  readonly port?: number;
  /** The environment variable holding its password, or user:password. */
  readonly credentialsVariable?: string;
  /** The hosts it feeds: as written, or every host of the lab. */
  readonly feeds: readonly string[];
  /** Position in the lab file's `power.plugs` list. */
  readonly index: number;
}

export interface LabPower {
  readonly plugs: readonly LabPlug[];
}

/**
 * What the cross-field rules look at: a whole Lab, or the parts of a lab file with field errors that are
 * well-formed on their own, so that field and cross-field problems are reported in one round.
 */
export interface LabParts {
  /** Absolute path of the lab file. */
  readonly file: string;
  /** Absent when the network section has a field error: the rules over it are skipped. */
  readonly network?: LabNetwork;
  /** The hosts without field errors; `index` still locates each in the file. */
  readonly hosts: readonly LabHost[];
  /** False when some host has a field error: rules needing every host's name are skipped. */
  readonly hostsComplete?: boolean;
  /** The plugs without field errors. */
  readonly plugs?: readonly LabPlug[];
}

export interface LabDeploy {
  readonly parallel: number;
  /** Seconds per waiting step; unset ones take deploy's defaults. */
  readonly timeouts: Readonly<
    Partial<Record<'locate' | 'boot' | 'preflight' | 'restore' | 'verify', number>>
  >;
}

export interface LabShare {
  /** As written in the lab file, for messages. */
  readonly targetText: string;
  readonly target: ShareTarget;
  /** What imagers mount, e.g. 192.168.87.2:/srv/os_images. */
  readonly nfs?: string;
  /** Where imagers mount it: ocs-sr's image root. */
  readonly imageRoot: string;
  readonly keep: number;
}

export interface LabSsh {
  readonly user: string;
  /** Private keys to offer (with the agent's); default: the usual ~/.ssh/id_* files. */
  readonly identityFiles?: readonly string[];
  readonly knownHostsFile?: string;
  readonly jump?: SshDestination;
  readonly connectTimeoutSeconds: number;
}

export interface LabNetwork {
  readonly subnet: {
    readonly cidr: string;
    readonly address: string;
    readonly prefix: number;
    readonly netmask: string;
  };
  readonly router: string;
  readonly dhcp: { readonly start: string; readonly end: string; readonly lease: string };
  /** The router's lab-side interface. */
  readonly lan: string;
  /** The router's home-network interface, where NAT goes out. */
  readonly uplink: string;
}

export interface LabHost {
  readonly name: string;
  readonly recipe?: string;
  /** Lowercased. */
  readonly mac?: string;
  readonly ip?: string;
  readonly wakeOnLan?: boolean;
  /** Position in the lab file's `hosts` list. */
  readonly index: number;
  /** How deploy reaches the host on its USB disk; unset fields take defaults (see deploy targets). */
  readonly ssh?: HostEndpointInput;
  readonly imager?: ImagerInput;
}

export interface HostEndpointInput {
  readonly address?: string;
  readonly port?: number;
  readonly user?: string;
}

export interface ImagerInput extends HostEndpointInput {
  readonly name?: string;
  /** The disk it re-images, e.g. sda. */
  readonly disk: string;
  /** The disk it runs from, e.g. mmcblk0. */
  readonly sdDisk: string;
}

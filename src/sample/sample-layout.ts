import { UserError } from '../errors.ts';

export type FirstBootForm = 'firstrun' | 'cloud-init';
export type ImagerStyle = '1.8' | '2.x';

export interface SampleDiskOptions {
  readonly path: string;
  readonly firstBoot: FirstBootForm;
  readonly bootStartSector?: 8192 | 16384;
  /** 'cm5': the file ends inside `[cm5]`, so a line appended at the end would apply to CM5 boards only. */
  readonly configTxtEndsIn?: 'all' | 'cm5';
  readonly bootSizeMiB?: number;
  readonly rootSizeMiB?: number;
  /** 8 hex digits: the MBR disk identifier, and the prefix of every PARTUUID. */
  readonly diskId?: string;
  readonly placeholder?: string;
  /** Files added under / in the root filesystem (sample files win on a name clash). */
  readonly rootExtraDir?: string;
  /** Files added to the boot filesystem (sample files win on a name clash). */
  readonly bootExtraDir?: string;
  readonly imagerStyle?: ImagerStyle;
}

export interface PartitionExtent {
  readonly startSector: number;
  readonly sizeSectors: number;
}

export interface SampleDisk {
  readonly path: string;
  readonly diskId: string;
  readonly sectors: number;
  readonly boot: PartitionExtent;
  readonly root: PartitionExtent;
}

/** Every option resolved, plus the geometry: what the writers work from. */
export interface SampleLayout extends SampleDisk {
  readonly firstBoot: FirstBootForm;
  readonly configTxtEndsIn: 'all' | 'cm5';
  readonly placeholder: string;
  readonly imagerStyle: ImagerStyle;
  readonly rootExtraDir: string | undefined;
  readonly bootExtraDir: string | undefined;
}

export const SECTOR_BYTES = 512;
const SECTORS_PER_MIB = 2048;
const DEFAULT_DISK_ID = '4e1d6b2a';
/** 2024-11-19 07:06:40 UTC: every timestamp in the sample, and the Imager instance id (in ms). */
export const SAMPLE_EPOCH_SECONDS = 1_732_000_000;

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function planSampleLayout(options: SampleDiskOptions): SampleLayout {
  const diskId = (options.diskId ?? DEFAULT_DISK_ID).toLowerCase();
  const placeholder = options.placeholder ?? 'changeme';
  const bootSizeMiB = options.bootSizeMiB ?? 64;
  const rootSizeMiB = options.rootSizeMiB ?? 160;
  const problems = [
    ...(/^[0-9a-f]{8}$/.test(diskId) ? [] : [`diskId "${diskId}" must be 8 hex digits, e.g. 4e1d6b2a`]),
    ...(HOSTNAME.test(placeholder)
      ? []
      : [`placeholder "${placeholder}" must be a valid lower-case hostname`]),
    // FAT32 needs at least 65525 clusters: 33 MiB with 512-byte clusters.
    ...(Number.isInteger(bootSizeMiB) && bootSizeMiB >= 33 ? [] : ['bootSizeMiB must be an integer >= 33']),
    ...(Number.isInteger(rootSizeMiB) && rootSizeMiB >= 32 ? [] : ['rootSizeMiB must be an integer >= 32']),
  ];
  if (problems.length > 0) throw new UserError('invalid sample disk options', problems);

  const boot = { startSector: options.bootStartSector ?? 16384, sizeSectors: bootSizeMiB * SECTORS_PER_MIB };
  const root = {
    startSector: boot.startSector + boot.sizeSectors,
    sizeSectors: rootSizeMiB * SECTORS_PER_MIB,
  };
  return {
    path: options.path,
    diskId,
    sectors: root.startSector + root.sizeSectors,
    boot,
    root,
    firstBoot: options.firstBoot,
    configTxtEndsIn: options.configTxtEndsIn ?? 'cm5',
    placeholder,
    imagerStyle: options.imagerStyle ?? '1.8',
    rootExtraDir: options.rootExtraDir,
    bootExtraDir: options.bootExtraDir,
  };
}

export function partUuid(layout: Pick<SampleLayout, 'diskId'>, partition: 1 | 2): string {
  return `${layout.diskId}-0${partition}`;
}

import { z } from 'zod';
import { checkedString } from './checked-string.ts';
import {
  checkAbsolutePath,
  checkCidr,
  checkDiskName,
  checkEnvName,
  checkHostname,
  checkInterfaceName,
  checkIpv4,
  checkKebabName,
  checkLeaseTime,
  checkMac,
  checkNfsExport,
  checkNotEmpty,
  checkShareTarget,
  checkSshDestination,
  checkSshHost,
  checkUserName,
} from './field-checks.ts';

/** YAML reads `lease: 3600` as a number; dnsmasq reads it as seconds. */
const leaseTime = z.preprocess(
  (value) => (typeof value === 'number' ? String(value) : value),
  checkedString(checkLeaseTime),
);

export const networkSchema = z.strictObject({
  subnet: checkedString(checkCidr),
  router: checkedString(checkIpv4),
  dhcp: z.strictObject({
    start: checkedString(checkIpv4),
    end: checkedString(checkIpv4),
    lease: leaseTime,
  }),
  lan: checkedString(checkInterfaceName),
  uplink: checkedString(checkInterfaceName),
});

export const imageSchema = z.strictObject({
  clean: checkedString(checkNotEmpty),
  placeholder: checkedString(checkHostname).default('changeme'),
});

const port = z.number().int().min(1).max(65535);

/** How deploy reaches a host running from its USB disk (default: its ip, or <name>.local). */
export const hostSshSchema = z.strictObject({
  address: checkedString(checkSshHost).optional(),
  port: port.optional(),
  user: checkedString(checkUserName).optional(),
});

/** The host's SD-card imager: its name, how to reach it, and the disk it re-images. */
export const imagerSchema = z.strictObject({
  name: checkedString(checkHostname).optional(),
  address: checkedString(checkSshHost).optional(),
  port: port.optional(),
  user: checkedString(checkUserName).optional(),
  disk: checkedString(checkDiskName).default('sda'),
  /** The disk the imager itself runs from (its SD card). */
  sd_disk: checkedString(checkDiskName).default('mmcblk0'),
});

export const hostSchema = z.strictObject({
  name: checkedString(checkHostname),
  recipe: checkedString(checkKebabName).optional(),
  mac: checkedString(checkMac).optional(),
  ip: checkedString(checkIpv4).optional(),
  ssh: hostSshSchema.optional(),
  imager: imagerSchema.optional(),
  /** Woken with a magic packet sent from the router (a machine without a plug of its own, like data1). */
  wake_on_lan: z.boolean().default(false),
});

/** A smart plug feeding some of the lab (default: all of it); its password is named, never written. */
export const plugSchema = z.strictObject({
  name: checkedString(checkKebabName),
  driver: z.enum(['kasa', 'shelly', 'tasmota']),
  address: checkedString(checkSshHost),
  port: port.optional(),
  credentials: checkedString(checkEnvName).optional(),
  feeds: z.array(checkedString(checkHostname)).min(1).optional(),
});

export const powerSchema = z.strictObject({
  plugs: z.array(plugSchema).min(1),
});

/** Where publish puts the images and where imagers find them. */
export const shareSchema = z.strictObject({
  target: checkedString(checkShareTarget),
  nfs: checkedString(checkNfsExport).optional(),
  image_root: checkedString(checkAbsolutePath).default('/home/partimag'),
  keep: z.number().int().min(1).max(100).default(3),
});

/** How publish and deploy reach the share and the Pis over SSH. */
export const sshSchema = z.strictObject({
  user: checkedString(checkUserName).default('pi'),
  identity: z.union([checkedString(checkNotEmpty), z.array(checkedString(checkNotEmpty)).min(1)]).optional(),
  known_hosts: checkedString(checkNotEmpty).optional(),
  jump: checkedString(checkSshDestination).optional(),
  connect_timeout: z.number().int().min(1).max(600).default(20),
});

const seconds = z.number().int().min(1).max(86_400);

/** How deploy paces itself: hosts at once, and how long each waiting step may take (seconds). */
export const deploySchema = z.strictObject({
  parallel: z.number().int().min(1).max(16).default(3),
  timeouts: z
    .strictObject({
      locate: seconds.optional(),
      boot: seconds.optional(),
      preflight: seconds.optional(),
      restore: seconds.optional(),
      verify: seconds.optional(),
    })
    .default({}),
});

/** One key per section: new sections are added here with their own schema. */
export const labSchema = z.strictObject({
  network: networkSchema,
  image: imageSchema,
  share: shareSchema.optional(),
  ssh: sshSchema.optional(),
  deploy: deploySchema.optional(),
  power: powerSchema.optional(),
  hosts: z.array(hostSchema),
});

export type LabInput = z.output<typeof labSchema>;

import { z } from 'zod';
import { checkedString } from './checked-string.ts';
import {
  checkAbsolutePath,
  checkCidr,
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

export const hostSchema = z.strictObject({
  name: checkedString(checkHostname),
  recipe: checkedString(checkKebabName).optional(),
  mac: checkedString(checkMac).optional(),
  ip: checkedString(checkIpv4).optional(),
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

/** One key per section: new sections are added here with their own schema. */
export const labSchema = z.strictObject({
  network: networkSchema,
  image: imageSchema,
  share: shareSchema.optional(),
  ssh: sshSchema.optional(),
  hosts: z.array(hostSchema),
});

export type LabInput = z.output<typeof labSchema>;

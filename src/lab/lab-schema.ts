import { z } from 'zod';
import { checkedString } from './checked-string.ts';
import {
  checkCidr,
  checkHostname,
  checkInterfaceName,
  checkIpv4,
  checkKebabName,
  checkLeaseTime,
  checkMac,
  checkNotEmpty,
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

/** One key per section: new sections (e.g. `share:`, `ssh:`) are added here with their own schema. */
export const labSchema = z.strictObject({
  network: networkSchema,
  image: imageSchema,
  hosts: z.array(hostSchema),
});

export type LabInput = z.output<typeof labSchema>;

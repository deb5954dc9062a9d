import { parseShareTarget } from '../values/share-target.ts';
import { broadcastAddress, formatIpv4, networkAddress, parseCidr, parseIpv4 } from './ipv4.ts';
import { isHostName, isUserName, parseSshDestination } from '../values/ssh-destination.ts';

/** What is wrong with one value and how to fix it; the value and its path are added by the caller. */
export interface ValueProblem {
  readonly message: string;
  readonly fix: string;
}

/** A named check of a single value, run by the schema so that all such problems are reported together. */
export type ValueCheck = (value: string) => ValueProblem | undefined;

const HOSTNAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function checkHostname(value: string): ValueProblem | undefined {
  if (HOSTNAME.test(value)) return undefined;
  const message = 'is not a valid hostname (an RFC 1123 label)';
  const lower = value.toLowerCase();
  if (lower !== value && HOSTNAME.test(lower)) {
    return { message: `${message}: hostnames are lowercase`, fix: `write "${lower}"` };
  }
  if (value.length > 63) return { message: `${message}: longer than 63 characters`, fix: 'shorten it' };
  const suggestion = toKebab(value);
  return {
    message: `${message}: 1-63 characters a-z, 0-9 and "-", not starting or ending with "-"`,
    fix: suggestion && HOSTNAME.test(suggestion) ? `write e.g. "${suggestion}"` : 'write e.g. "pi4"',
  };
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const DASHED_MAC = /^[0-9a-f]{2}(?:-[0-9a-f]{2}){5}$/i;

export function checkMac(value: string): ValueProblem | undefined {
  if (MAC.test(value)) return undefined;
  if (DASHED_MAC.test(value)) {
    return {
      message: 'separates the MAC address bytes with "-"',
      fix: `use ":" instead: "${value.replaceAll('-', ':')}"`,
    };
  }
  return {
    message: 'is not a MAC address',
    fix: 'write six hex pairs separated by ":", e.g. "d8:3a:dd:f7:78:e0" (`ip link` shows it)',
  };
}

export function checkIpv4(value: string): ValueProblem | undefined {
  if (parseIpv4(value) !== undefined) return undefined;
  return {
    message: 'is not an IPv4 address',
    fix: 'write four numbers 0-255 separated by dots, without leading zeros, e.g. "192.168.87.2"',
  };
}

export function checkCidr(value: string): ValueProblem | undefined {
  const cidr = parseCidr(value);
  if (!cidr) {
    return {
      message: 'is not a subnet in CIDR notation',
      fix: 'write address/prefix, e.g. "192.168.87.0/24"',
    };
  }
  const network = networkAddress(cidr);
  if (network !== cidr.address) {
    return {
      message: 'has host bits set in its address',
      fix: `write the subnet's own address: "${formatIpv4(network)}/${cidr.prefix}"`,
    };
  }
  if (broadcastAddress(cidr) - network < 3) {
    return {
      message: 'is too small for a router and hosts',
      fix: 'use a prefix of /29 or shorter, e.g. /24',
    };
  }
  return undefined;
}

const LEASE_TIME = /^(?:\d+[smhdw]?|infinite)$/;

export function checkLeaseTime(value: string): ValueProblem | undefined {
  if (LEASE_TIME.test(value)) return undefined;
  return {
    message: 'is not a dnsmasq lease time',
    fix: 'write a number with an optional unit s, m, h, d or w (e.g. "24h"), or "infinite"',
  };
}

export function checkInterfaceName(value: string): ValueProblem | undefined {
  const valid =
    value.length > 0 && value.length <= 15 && value !== '.' && value !== '..' && !/[/:\s]/.test(value);
  if (valid) return undefined;
  return {
    message: 'is not a Linux interface name (1-15 characters, no "/", ":" or spaces)',
    fix: 'use the name `ip link` shows on the router, e.g. "eth0" or "wlan0"',
  };
}

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Recipe and overlay names: they become file and directory names. */
export function checkKebabName(value: string): ValueProblem | undefined {
  if (KEBAB.test(value)) return undefined;
  const suggestion = toKebab(value);
  return {
    message: 'is not a kebab-case name (lowercase words joined by "-")',
    fix: suggestion ? `write e.g. "${suggestion}"` : 'write e.g. "build-node"',
  };
}

export function checkNotEmpty(value: string): ValueProblem | undefined {
  return value.trim() ? undefined : { message: 'is empty', fix: 'write a value' };
}

export function checkShareTarget(value: string): ValueProblem | undefined {
  const parsed = parseShareTarget(value, '/');
  if (!('problem' in parsed)) return undefined;
  return {
    message: parsed.problem,
    fix: 'write a directory (e.g. "/mnt/os_images") or "sftp://pi@192.168.87.2/srv/os_images"',
  };
}

export function checkSshDestination(value: string): ValueProblem | undefined {
  if (parseSshDestination(value)) return undefined;
  return { message: 'is not an SSH destination', fix: 'write [user@]host[:port], e.g. "pi@192.168.87.1"' };
}

export function checkSshHost(value: string): ValueProblem | undefined {
  if (isHostName(value)) return undefined;
  return {
    message: 'is not a host name or IPv4 address',
    fix: 'write e.g. "192.168.87.101" or "imager1.local"',
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Credentials are never written in the lab file: it names the environment variable holding them. */
export function checkEnvName(value: string): ValueProblem | undefined {
  if (ENV_NAME.test(value)) return undefined;
  return {
    message: 'is not the name of an environment variable',
    fix: 'name the variable that holds the password (or user:password), e.g. PI_LAB_PLUG_PASSWORD',
  };
}

const DISK = /^(?:sd[a-z]{1,2}|mmcblk\d+|nvme\d+n\d+|vd[a-z]{1,2}|loop\d+)$/;

export function checkDiskName(value: string): ValueProblem | undefined {
  if (DISK.test(value)) return undefined;
  return {
    message: 'is not a whole-disk name',
    fix: 'write a name under /dev without partition number, e.g. "sda", "nvme0n1" or "mmcblk0"',
  };
}

export function checkUserName(value: string): ValueProblem | undefined {
  if (isUserName(value)) return undefined;
  return { message: 'is not a user name', fix: 'write a login name such as "pi"' };
}

export function checkNfsExport(value: string): ValueProblem | undefined {
  const match = /^([^:]+):(\/.*)$/.exec(value);
  if (match?.[1] && isHostName(match[1])) return undefined;
  return { message: 'is not an NFS export', fix: 'write host:/path, e.g. "192.168.87.2:/srv/os_images"' };
}

export function checkAbsolutePath(value: string): ValueProblem | undefined {
  if (value.startsWith('/') && !value.includes('\0')) return undefined;
  return { message: 'is not an absolute path', fix: 'write a path starting with "/", e.g. "/home/partimag"' };
}

function toKebab(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Every value check, by name, for tests and documentation. */
export const valueChecks: readonly ValueCheck[] = [
  checkHostname,
  checkMac,
  checkIpv4,
  checkCidr,
  checkLeaseTime,
  checkInterfaceName,
  checkKebabName,
  checkNotEmpty,
  checkShareTarget,
  checkSshDestination,
  checkSshHost,
  checkDiskName,
  checkUserName,
  checkNfsExport,
  checkAbsolutePath,
];

const OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** Dotted-quad IPv4 address to an unsigned 32-bit number; undefined when malformed (leading zeros included). */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

export interface Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** `a.b.c.d/n`; undefined when malformed. Host bits are not checked here. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(0|[1-9]\d?)$/.exec(text);
  if (!match) return undefined;
  const address = parseIpv4(match[1] ?? '');
  const prefix = Number(match[2]);
  if (address === undefined || prefix > 32) return undefined;
  return { address, prefix };
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkAddress(cidr: Cidr): number {
  return (cidr.address & prefixMask(cidr.prefix)) >>> 0;
}

export function broadcastAddress(cidr: Cidr): number {
  return (networkAddress(cidr) | ~prefixMask(cidr.prefix)) >>> 0;
}

export function isInSubnet(address: number, cidr: Cidr): boolean {
  return (address & prefixMask(cidr.prefix)) >>> 0 === networkAddress(cidr);
}

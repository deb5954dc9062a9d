import { entryMatchesHost, type KnownHostsEntry } from './known-hosts.ts';

export type HostKeyStatus = 'known' | 'unknown' | 'changed' | 'revoked';

export interface HostKeyMatch {
  readonly status: HostKeyStatus;
  /** Lines behind the verdict: the matching line, the lines with another key, or the revoking line. */
  readonly lines: readonly number[];
  /** Key types known_hosts holds for this host (any key), e.g. to prefer them in the handshake. */
  readonly knownTypes: readonly string[];
}

/**
 * Checks a server's host key against known_hosts as ssh does: a revoked key is refused for every
 * host; a key equal to one listed for the host is known; another key of the same type is a change;
 * otherwise the key is unknown (even when keys of other types are listed).
 */
export function matchHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): HostKeyMatch {
  const forHost = entriesForHost(entries, host, port);
  const knownTypes = knownKeyTypes(entries, host, port);
  const revoking = entries.filter((entry) => entry.revoked && entry.keyBlob.equals(keyBlob));
  if (revoking.length > 0) return { status: 'revoked', lines: lines(revoking), knownTypes };
  const sameType = forHost.filter((entry) => entry.keyType === keyType);
  const equal = sameType.filter((entry) => entry.keyBlob.equals(keyBlob));
  if (equal.length > 0) return { status: 'known', lines: lines(equal), knownTypes };
  if (sameType.length > 0) return { status: 'changed', lines: lines(sameType), knownTypes };
  return { status: 'unknown', lines: [], knownTypes };
}

/** The key types known_hosts holds for a host (revoked lines aside), in file order. */
export function knownKeyTypes(entries: readonly KnownHostsEntry[], host: string, port: number): string[] {
  return [...new Set(entriesForHost(entries, host, port).map((entry) => entry.keyType))];
}

function entriesForHost(entries: readonly KnownHostsEntry[], host: string, port: number): KnownHostsEntry[] {
  return entries.filter((entry) => !entry.revoked && entryMatchesHost(entry, host, port));
}

export function checkHostKey(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): HostKeyStatus {
  return matchHostKey(entries, host, port, keyType, keyBlob).status;
}

function lines(entries: readonly KnownHostsEntry[]): number[] {
  return entries.map((entry) => entry.line);
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { keyBlobType } from './fingerprint.ts';

/** How a known_hosts line names its hosts: patterns as written, or one hashed name (`|1|salt|hash`). */
export type HostNames =
  | { readonly kind: 'patterns'; readonly patterns: readonly string[] }
  | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer };

export interface KnownHostsEntry {
  /** 1-based line in the file, for messages. */
  readonly line: number;
  readonly revoked: boolean;
  readonly hosts: HostNames;
  readonly keyType: string;
  readonly keyBlob: Buffer;
}

/** The name known_hosts files use for a host: the host itself on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Parses known_hosts text. `@cert-authority` lines (host certificates are not used here), comments,
 * blank and malformed lines are skipped, as ssh skips them.
 */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const entry = parseLine(raw.trim(), index + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

/** A missing file has no entries (every key is then unknown). */
export async function readKnownHosts(file: string): Promise<KnownHostsEntry[]> {
  try {
    return parseKnownHosts(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function parseLine(line: string, lineNumber: number): KnownHostsEntry | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  let fields = line.split(/\s+/);
  let revoked = false;
  if (fields[0]?.startsWith('@')) {
    if (fields[0] !== '@revoked') return undefined;
    revoked = true;
    fields = fields.slice(1);
  }
  const [hostField, keyType, base64] = fields;
  if (!hostField || !keyType || !base64 || !/^[A-Za-z0-9+/]+=*$/.test(base64)) return undefined;
  const hosts = parseHostNames(hostField);
  if (!hosts) return undefined;
  const keyBlob = Buffer.from(base64, 'base64');
  try {
    if (keyBlobType(keyBlob) !== keyType) return undefined;
  } catch {
    return undefined;
  }
  return { line: lineNumber, revoked, hosts, keyType, keyBlob };
}

function parseHostNames(field: string): HostNames | undefined {
  if (!field.startsWith('|')) return { kind: 'patterns', patterns: field.split(',').filter(Boolean) };
  const [, magic, salt, hash] = field.split('|');
  if (magic !== '1' || !salt || !hash) return undefined;
  return { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

/** Whether a line names `host` on `port` (names compare lowercased, as ssh does). */
export function entryMatchesHost(entry: KnownHostsEntry, host: string, port: number): boolean {
  const name = knownHostsName(host.toLowerCase(), port);
  const { hosts } = entry;
  if (hosts.kind === 'hashed') {
    const digest = createHmac('sha1', hosts.salt).update(name).digest();
    return digest.length === hosts.hash.length && timingSafeEqual(digest, hosts.hash);
  }
  let matched = false;
  for (const pattern of hosts.patterns) {
    const negated = pattern.startsWith('!');
    if (!wildcardPattern(negated ? pattern.slice(1) : pattern).test(name)) continue;
    // A matching negated pattern excludes the host whatever else the line lists.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function wildcardPattern(pattern: string): RegExp {
  const body = pattern
    .toLowerCase()
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

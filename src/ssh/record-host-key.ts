import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { knownHostsName } from './known-hosts.ts';
import { endpointPort, type SshEndpoint } from './ssh-endpoint.ts';

/** Writes to one file wait for each other: hosts deployed in parallel come back at the same time. */
const writing = new Map<string, Promise<void>>();
let writes = 0;

/**
 * Adds a host's key to known_hosts under `tag` (a trailing comment), replacing what was recorded
 * under the same tag for that host before. Lines the user wrote stay as they are.
 */
export async function recordHostKey(
  knownHostsFile: string,
  endpoint: SshEndpoint,
  key: { readonly keyType: string; readonly keyBlob: Buffer },
  tag: string,
): Promise<void> {
  const before = writing.get(knownHostsFile) ?? Promise.resolve();
  const mine = before.then(() => rewrite(knownHostsFile, endpoint, key, tag));
  const settled = mine.catch(() => undefined);
  writing.set(knownHostsFile, settled);
  try {
    await mine;
  } finally {
    if (writing.get(knownHostsFile) === settled) writing.delete(knownHostsFile);
  }
}

async function rewrite(
  knownHostsFile: string,
  endpoint: SshEndpoint,
  key: { readonly keyType: string; readonly keyBlob: Buffer },
  tag: string,
): Promise<void> {
  const name = knownHostsName(endpoint.host, endpointPort(endpoint));
  const text = await readFile(knownHostsFile, 'utf8').catch(() => '');
  const kept = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return !(fields[0] === name && fields.at(-1) === tag);
    });
  kept.push(`${name} ${key.keyType} ${key.keyBlob.toString('base64')} ${tag}`);
  await mkdir(path.dirname(knownHostsFile), { recursive: true });
  const temporary = `${knownHostsFile}.tmp-${process.pid}-${++writes}`;
  await writeFile(temporary, `${kept.join('\n')}\n`, { mode: 0o644 });
  await rename(temporary, knownHostsFile);
}

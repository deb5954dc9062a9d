import type { ServerHostKeyAlgorithm } from 'ssh2';

/** ssh2's own default order (ed25519 is always available on Node 20). */
const DEFAULT_ORDER: readonly ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** The handshake algorithms that produce a key of a type known_hosts stores. */
function algorithmsFor(keyType: string): readonly ServerHostKeyAlgorithm[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return DEFAULT_ORDER.filter((algorithm) => algorithm === keyType);
}

/**
 * Like ssh, asks first for host key types known_hosts already holds for the host: a Pi has ed25519,
 * ecdsa and rsa keys, and being shown a type nobody accepted yet would look like an unknown host.
 */
export function preferredHostKeyAlgorithms(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const preferred = knownTypes.flatMap(algorithmsFor);
  return [...new Set([...preferred, ...DEFAULT_ORDER])];
}

import { createHash } from 'node:crypto';

/** `SHA256:<base64 without padding>` of a public key blob, as `ssh-keygen -l` and ssh print it. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The key type a public key blob names in its first field (`ssh-ed25519`, `ecdsa-sha2-nistp256`,
 * `ssh-rsa`...): an SSH string, a 4-byte big-endian length then the bytes.
 */
export function keyBlobType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) throw new Error('public key blob is too short');
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > keyBlob.length) {
    throw new Error('public key blob does not start with a key type');
  }
  return keyBlob.toString('latin1', 4, 4 + length);
}

/** The name `ssh-keyscan -t` and `ssh-keygen -t` take for a key type (`ed25519`, `ecdsa`, `rsa`). */
export function shortKeyType(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ecdsa';
  if (keyType === 'ssh-rsa') return 'rsa';
  if (keyType === 'ssh-dss') return 'dsa';
  return keyType;
}

import { createCipheriv, createHash } from 'node:crypto';

/** Incompressible but reproducible bytes: AES-CTR keystream keyed by the seed. */
export function pseudoRandomBytes(seed: string, length: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

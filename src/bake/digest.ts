import { createHash } from 'node:crypto';
import { compareCodeUnits } from '../values/code-unit-order.ts';

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with sorted keys, a Buffer as its sha256: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, item: unknown) {
    // The replacer sees a Buffer's toJSON() ({ type, data: [...bytes] }); its holder still has the Buffer.
    const original = (this as Record<string, unknown>)[key];
    if (Buffer.isBuffer(original)) return { sha256: sha256(original) };
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      return Object.fromEntries(
        Object.entries(item as Record<string, unknown>).sort(([a], [b]) => compareCodeUnits(a, b)),
      );
    }
    return item;
  });
}

export function digestOf(value: unknown): string {
  return sha256(canonicalJson(value));
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json, recipes/ and overlays/, whatever the caller's cwd. */
export function projectRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
}

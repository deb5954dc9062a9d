import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ContractError } from '../image/contract-json.ts';
import { type Manifest, readManifest } from '../image/manifest.ts';

/** An earlier bake's manifest; a damaged one counts as none, so that host is simply baked again. */
export async function readUsableManifest(imageDir: string): Promise<Manifest | undefined> {
  return readManifest(imageDir).catch((error: unknown) => {
    if (error instanceof ContractError) return undefined;
    throw error;
  });
}

/** Cheap check for "unchanged": same inputs and every file present with its size (no re-hashing). */
export async function isCurrent(imageDir: string, inputKey: string): Promise<boolean> {
  const manifest = await readUsableManifest(imageDir);
  if (manifest?.inputKey !== inputKey) return false;
  for (const [name, file] of Object.entries(manifest.files)) {
    const info = await stat(path.join(imageDir, name)).catch(() => undefined);
    if (info?.size !== file.size) return false;
  }
  return true;
}

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeError, UserError } from '../errors.ts';
import { ContractError } from '../image/contract-json.ts';
import { MANIFEST_FILE, type Manifest, parseManifest } from '../image/manifest.ts';
import type { LocalImage } from './plan-publish.ts';

/** The baked images of `hosts` under `fromDir`, each complete per its manifest; all problems at once. */
export async function readLocalImages(fromDir: string, hosts: readonly string[]): Promise<LocalImage[]> {
  const problems: string[] = [];
  const images: LocalImage[] = [];
  for (const host of hosts) {
    const dir = path.join(fromDir, host);
    const manifestText = await readFile(path.join(dir, MANIFEST_FILE), 'utf8').catch(() => undefined);
    if (manifestText === undefined) {
      problems.push(`${host}: no baked image in ${dir} (run npm run bake -- ${host} first)`);
      continue;
    }
    let manifest: Manifest;
    try {
      manifest = parseManifest(manifestText, path.join(dir, MANIFEST_FILE));
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      problems.push(`${host}: ${describeError(error)}`);
      continue;
    }
    if (manifest.host !== host) {
      problems.push(`${host}: ${dir} holds the image of ${manifest.host} (bake again)`);
      continue;
    }
    const broken: string[] = [];
    for (const [name, file] of Object.entries(manifest.files)) {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      if (info?.size !== file.size) broken.push(info ? `${name} (size differs)` : `${name} (missing)`);
    }
    if (broken.length > 0) {
      problems.push(`${host}: ${dir} does not match its manifest: ${broken.join(', ')} (bake again)`);
      continue;
    }
    images.push({ host, dir, manifest, manifestText });
  }
  if (problems.length > 0) throw new UserError('Cannot publish:', problems);
  return images;
}

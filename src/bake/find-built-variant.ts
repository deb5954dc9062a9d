import { link, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BuiltPartition } from './build-partitions.ts';
import { readUsableManifest } from './is-current.ts';

/**
 * A root image an earlier bake made for the same variant (same clean root, same files written,
 * same tools), still whole in the output: linking it saves re-cloning the root filesystem when
 * only boot files change.
 */
export async function findBuiltVariant(
  outDir: string,
  device: string,
  variant: string,
  scratchDir: string,
): Promise<BuiltPartition | undefined> {
  const entries = await readdir(outDir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(outDir, entry.name);
    const manifest = await readUsableManifest(dir);
    const record = manifest?.partitions[device];
    const name = record?.files[0];
    if (!manifest || record?.variant !== variant || record.files.length !== 1 || !name) continue;
    const file = manifest.files[name];
    // Linked into the scratch space first: that host's directory may be swapped during this bake.
    const kept = path.join(scratchDir, `reused-${variant.slice(0, 16)}`, name);
    await mkdir(path.dirname(kept), { recursive: true });
    if (
      !(await link(path.join(dir, name), kept).then(
        () => true,
        () => false,
      ))
    )
      continue;
    const info = await stat(kept);
    if (!file || info.size !== file.size) {
      await rm(kept, { force: true });
      continue;
    }
    return { file: kept, sha256: file.sha256, size: file.size, variant };
  }
  return undefined;
}

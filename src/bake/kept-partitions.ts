import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { PartitionImage } from '../clonezilla/read-image.ts';
import { digestOf } from './digest.ts';

/**
 * Clean partitions restored by an earlier bake, kept as sparse files under `<out>/.bake-clean/`,
 * named by the digest of their partition image files: a root filesystem change then costs no
 * decompression and no partclone restore. Nothing ever writes to a kept file (edits go to a
 * sparse copy); a file is only in place once wholly restored (renamed from a temporary name),
 * and the ones of another clean image are removed when a bake starts.
 */
export class KeptPartitions {
  private constructor(readonly dir: string) {}

  static in(outDir: string): KeptPartitions {
    return new KeptPartitions(path.join(outDir, '.bake-clean'));
  }

  /** Where `partition` of the clean image whose files have `fileDigests` is kept. */
  fileFor(partition: PartitionImage, fileDigests: ReadonlyMap<string, string>): string {
    const key = digestOf(partition.files.map((file) => [file, fileDigests.get(file) ?? '']));
    return path.join(this.dir, `${key.slice(0, 24)}-${partition.device}.${partition.fs}.img`);
  }

  /** The kept file, restored by `restore` into a temporary name first when it is not there yet. */
  async obtain(file: string, restore: (output: string) => Promise<void>): Promise<string> {
    if (await isFile(file)) return file;
    await mkdir(this.dir, { recursive: true });
    const partial = path.join(this.dir, `.${path.basename(file)}.tmp-${process.pid}`);
    await rm(partial, { force: true });
    try {
      await restore(partial);
      await rename(partial, file);
    } finally {
      await rm(partial, { force: true });
    }
    return file;
  }

  /** Removes every kept file but `keep`, and what an interrupted restore left. */
  async pruneExcept(keep: readonly string[]): Promise<void> {
    const wanted = new Set(keep.map((file) => path.basename(file)));
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    for (const entry of entries)
      if (!wanted.has(entry)) await rm(path.join(this.dir, entry), { recursive: true, force: true });
  }
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    (found) => found.isFile(),
    () => false,
  );
}

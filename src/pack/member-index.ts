import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/** One gzip member of a written image file: the chunk it decompresses to and where it lies. */
export interface MemberEntry {
  /** sha256 of the chunk's raw bytes. */
  readonly chunk: string;
  readonly offset: number;
  readonly length: number;
  /** sha256 of the member's bytes: a member read back is used only when they match. */
  readonly sha256: string;
}

const SCHEMA = 1;

const indexSchema = z.object({
  schema: z.literal(SCHEMA),
  zlib: z.string(),
  members: z.array(
    z.tuple([
      z.string(),
      z.number().int().min(0),
      z
        .number()
        .int()
        .min(1)
        .max(16 * 1024 * 1024),
      z.string(),
    ]),
  ),
});

/**
 * The members of the gzip images a bake wrote, one index per image file content (named by the
 * file's sha256) under `<out>/.bake-members/`. A later bake reuses those members instead of
 * compressing their chunks again: a root filesystem change then compresses only the chunks it
 * touched. Members made by another zlib are not reused (their bytes may differ, and the output
 * must be what a bake from scratch gives); a damaged index counts as none.
 */
export class MemberIndexes {
  private constructor(readonly dir: string) {}

  static in(outDir: string): MemberIndexes {
    return new MemberIndexes(path.join(outDir, '.bake-members'));
  }

  private fileFor(fileSha256: string): string {
    return path.join(this.dir, `${fileSha256}.json`);
  }

  async write(fileSha256: string, members: readonly MemberEntry[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.fileFor(fileSha256);
    const partial = `${file}.tmp-${process.pid}`;
    const index: z.infer<typeof indexSchema> = {
      schema: SCHEMA,
      zlib: process.versions.zlib,
      members: members.map((m) => [m.chunk, m.offset, m.length, m.sha256]),
    };
    await writeFile(partial, JSON.stringify(index));
    await rename(partial, file);
  }

  /** The members of the image file whose sha256 is `fileSha256`, or none when there is no usable index. */
  async read(fileSha256: string): Promise<MemberEntry[]> {
    const text = await readFile(this.fileFor(fileSha256), 'utf8').catch(() => undefined);
    if (text === undefined) return [];
    let parsed: z.infer<typeof indexSchema>;
    try {
      parsed = indexSchema.parse(JSON.parse(text));
    } catch {
      return [];
    }
    if (parsed.zlib !== process.versions.zlib) return [];
    return parsed.members.map(([chunk, offset, length, sha256]) => ({ chunk, offset, length, sha256 }));
  }

  /** Removes every index but those of `keep` (file sha256s), and what an interrupted write left. */
  async pruneExcept(keep: Iterable<string>): Promise<void> {
    const wanted = new Set([...keep].map((sha) => `${sha}.json`));
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    for (const entry of entries)
      if (!wanted.has(entry)) await rm(path.join(this.dir, entry), { recursive: true, force: true });
  }
}

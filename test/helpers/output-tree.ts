import { createHash } from 'node:crypto';
import { cp, lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from './bake-cli.ts';

export interface EntryFacts {
  readonly type: 'file' | 'dir' | 'symlink';
  /** sha256 of a file's bytes, a symlink's target, '' for a directory. */
  readonly content: string;
  readonly size: number;
  /** Permission bits. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly ino: number;
  readonly mtimeMs: number;
}

/** Every entry under `dir` (relative paths), with what is needed to tell "byte-identical" and "not touched". */
export async function snapshotTree(dir: string): Promise<Record<string, EntryFacts>> {
  const result: Record<string, EntryFacts> = {};
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(path.join(dir, relative))).sort();
    for (const name of names) {
      const rel = relative ? `${relative}/${name}` : name;
      const full = path.join(dir, rel);
      const info = await lstat(full);
      const common = {
        size: info.size,
        mode: info.mode & 0o7777,
        uid: info.uid,
        gid: info.gid,
        ino: info.ino,
        mtimeMs: info.mtimeMs,
      };
      if (info.isDirectory()) {
        result[rel] = { type: 'dir', content: '', ...common };
        await walk(rel);
      } else if (info.isSymbolicLink()) {
        result[rel] = { type: 'symlink', content: await readlink(full), ...common };
      } else {
        const content = createHash('sha256')
          .update(await readFile(full))
          .digest('hex');
        result[rel] = { type: 'file', content, ...common };
      }
    }
  };
  await walk('');
  return result;
}

/** The bytes and modes only: equal for a byte-identical copy, whatever its inodes and times. */
export function contentOf(snapshot: Record<string, EntryFacts>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([name, facts]) => [
      name,
      `${facts.type} ${facts.mode.toString(8)} ${facts.size} ${facts.content}`,
    ]),
  );
}

/** Inode and mtime only: equal when nothing was replaced or rewritten. */
export function identityOf(
  snapshot: Record<string, EntryFacts>,
  only: (name: string) => boolean = () => true,
) {
  return Object.fromEntries(
    Object.entries(snapshot)
      .filter(([name, facts]) => facts.type !== 'dir' && only(name))
      .map(([name, facts]) => [name, `ino ${facts.ino} mtime ${facts.mtimeMs}`]),
  );
}

/**
 * What a bake keeps for the next one: its cache, the clean partitions it restored and the member
 * indexes of the images it wrote.
 */
const PERSISTENT = new Set(['.bake-cache.json', '.bake-clean', '.bake-members']);

/**
 * What a bake must never leave in the output directory after it ends: staging, retired and
 * scratch directories (`.bake-<host>.tmp-*`, `.old-*`, `.bake-work-*`), the lock, temporary files,
 * a partly restored clean partition.
 */
export async function bakeLeftovers(outDir: string): Promise<string[]> {
  const names = await readdir(outDir).catch(() => [] as string[]);
  const kept = await readdir(path.join(outDir, '.bake-clean')).catch(() => [] as string[]);
  const indexes = await readdir(path.join(outDir, '.bake-members')).catch(() => [] as string[]);
  return [
    ...names.filter((name) => (name.startsWith('.bake') && !PERSISTENT.has(name)) || /\.tmp-\d+/.test(name)),
    ...kept.filter((name) => !name.endsWith('.img')).map((name) => `.bake-clean/${name}`),
    ...indexes.filter((name) => !/^[0-9a-f]{64}\.json$/.test(name)).map((name) => `.bake-members/${name}`),
  ];
}

/** Scratch dirs a bake with this pid may have left in the OS temp dir (a dry run works there). */
export async function tmpdirLeftovers(pid: number): Promise<string[]> {
  const names = await readdir(os.tmpdir());
  return names.filter((name) => name.startsWith(`.bake-work-${pid}-`) || name.startsWith(`.bake-${pid}`));
}

/**
 * A project dir for runBakeCli's projectDir: copies of the repository's recipes/ and overlays/,
 * with `recipes` written over them (name → YAML text).
 */
export async function makeProjectCopy(
  dir: string,
  recipes: Readonly<Record<string, string>> = {},
): Promise<string> {
  await cp(path.join(PROJECT_DIR, 'recipes'), path.join(dir, 'recipes'), { recursive: true });
  await cp(path.join(PROJECT_DIR, 'overlays'), path.join(dir, 'overlays'), { recursive: true });
  for (const [name, text] of Object.entries(recipes))
    await writeFile(path.join(dir, 'recipes', `${name}.yaml`), text);
  return dir;
}

/** The partclone image files of an image dir (`<part>.<fs>-ptcl-img.<codec>[.aa…]`). */
export async function partitionImageFiles(imageDir: string): Promise<string[]> {
  return (await readdir(imageDir)).filter((name) => name.includes('-ptcl-img.')).sort();
}

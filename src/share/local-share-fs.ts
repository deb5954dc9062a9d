import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  type FileHandle,
  link,
  open,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  statfs,
  symlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copyRange } from '../exec/copy-range.ts';
import type { ShareEntry, ShareFs, SharePiece } from './share-fs.ts';

/** Published files are world-readable: imagers read them over NFS as root, which NFS maps to nobody. */
const FILE_MODE = 0o644;

/** A share that is a directory of this machine (a local disk, or the NFS share mounted here). */
export class LocalShareFs implements ShareFs {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = root;
  }

  private resolve(relative: string): string {
    return path.join(this.root, relative);
  }

  async lstat(relative: string): Promise<ShareEntry | undefined> {
    const info = await lstat(this.resolve(relative)).catch(ignoreMissing);
    if (!info) return undefined;
    return { name: path.posix.basename(relative), type: entryType(info), size: info.size };
  }

  async list(dir: string): Promise<ShareEntry[]> {
    const names = (await readdir(this.resolve(dir)).catch(ignoreMissing)) ?? [];
    const entries: ShareEntry[] = [];
    for (const name of names.sort()) {
      const entry = await this.lstat(path.posix.join(dir, name));
      if (entry) entries.push(entry);
    }
    return entries;
  }

  async mkdirp(dir: string): Promise<void> {
    await mkdir(this.resolve(dir), { recursive: true });
  }

  async mkdirExclusive(dir: string): Promise<boolean> {
    try {
      await mkdir(this.resolve(dir));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  async readText(relative: string): Promise<string | undefined> {
    return readFile(this.resolve(relative), 'utf8').catch(ignoreMissing);
  }

  async writeText(relative: string, text: string): Promise<void> {
    await writeFile(this.resolve(relative), text, { mode: FILE_MODE });
  }

  async upload(
    localFile: string,
    relative: string,
    onProgress: (sentBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    let sent = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        sent += chunk.length;
        onProgress(sent);
        callback(null, chunk);
      },
    });
    await pipeline(
      createReadStream(localFile, { highWaterMark: 1 << 20 }),
      count,
      createWriteStream(this.resolve(relative), { flags: 'wx', mode: FILE_MODE }),
      signal ? { signal } : {},
    );
  }

  async assemble(relative: string, pieces: readonly SharePiece[]): Promise<void> {
    const output = await open(this.resolve(relative), 'wx', FILE_MODE);
    const sources = new Map<string, FileHandle>();
    try {
      let written = 0;
      for (const piece of pieces) {
        let source = sources.get(piece.source);
        if (!source) {
          source = await open(this.resolve(piece.source), 'r');
          sources.set(piece.source, source);
        }
        await copyRange(source, piece.offset, piece.length, output, written);
        written += piece.length;
      }
    } finally {
      for (const source of sources.values()) await source.close();
      await output.close();
    }
  }

  async sha256(relative: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(this.resolve(relative), { highWaterMark: 1 << 20 }), hash);
    return hash.digest('hex');
  }

  async hardlink(existing: string, linkPath: string): Promise<void> {
    await link(this.resolve(existing), this.resolve(linkPath));
  }

  async symlink(target: string, linkPath: string): Promise<void> {
    await symlink(target, this.resolve(linkPath));
  }

  async readlink(relative: string): Promise<string | undefined> {
    return readlink(this.resolve(relative)).catch(ignoreMissing);
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(this.resolve(from), this.resolve(to));
  }

  async removeTree(relative: string): Promise<void> {
    await rm(this.resolve(relative), { recursive: true, force: true });
  }

  async freeBytes(dir: string): Promise<number | undefined> {
    const info = await statfs(this.resolve(dir)).catch(ignoreMissing);
    return info ? info.bavail * info.bsize : undefined;
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }
}

function entryType(info: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) {
  if (info.isSymbolicLink()) return 'symlink';
  if (info.isDirectory()) return 'directory';
  if (info.isFile()) return 'file';
  return 'other';
}

function ignoreMissing(error: unknown): undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw error;
}

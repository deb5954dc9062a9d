import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { MemberEntry } from './member-index.ts';
import { writeAll } from './write-all.ts';

interface MemberLocation {
  readonly offset: number;
  readonly length: number;
  readonly sha256: string;
  /** An image file an earlier bake wrote; absent for the store's own scratch file. */
  readonly adoptedFrom?: FileHandle;
}

/**
 * Compressed members kept in one scratch file, addressed by the sha256 of the bytes they
 * decompress to. Lives for one bake: every host's image reuses what an earlier one compressed.
 * It also reads members straight out of image files earlier bakes wrote (`adopt`).
 * A member read back is checked against the sha256 it was stored with: a wrong byte in the store
 * would otherwise be copied into every image that reuses it, past every later check.
 */
export class MemberStore {
  private readonly index = new Map<string, MemberLocation>();
  private readonly adoptedFiles: FileHandle[] = [];
  /** Members being made right now: a second stream that meets the same chunk waits instead of compressing it again. */
  private readonly making = new Map<string, Promise<Buffer>>();
  private size = 0;

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string): Promise<MemberStore> {
    return new MemberStore(await open(path, 'w+'));
  }

  has(chunkDigest: string): boolean {
    return this.index.has(chunkDigest);
  }

  /**
   * Whether the member comes from an earlier bake's file. Such a file may have changed since its
   * index was written: `get` then answers undefined, and the caller compresses the chunk itself.
   */
  isAdopted(chunkDigest: string): boolean {
    return this.index.get(chunkDigest)?.adoptedFrom !== undefined;
  }

  /** The sha256 of the stored member's bytes. */
  sha256Of(chunkDigest: string): string | undefined {
    return this.index.get(chunkDigest)?.sha256;
  }

  /**
   * Serves `members` out of `file` from now on, for chunks the store does not hold yet. The file
   * is opened at once, so it stays readable when a later step of the bake replaces it.
   */
  async adopt(file: string, members: readonly MemberEntry[]): Promise<void> {
    if (!members.some((member) => !this.index.has(member.chunk))) return;
    const handle = await open(file, 'r').catch(() => undefined);
    if (!handle) return;
    this.adoptedFiles.push(handle);
    for (const { chunk, offset, length, sha256 } of members)
      if (!this.index.has(chunk)) this.index.set(chunk, { offset, length, sha256, adoptedFrom: handle });
  }

  /** The stored member, or the one `make` returns, made once however many streams ask at the same time. */
  async obtain(chunkDigest: string, make: () => Promise<Buffer>): Promise<Buffer> {
    const stored = await this.get(chunkDigest);
    if (stored) return stored;
    let made = this.making.get(chunkDigest);
    if (!made) {
      made = (async () => {
        const member = await make();
        await this.add(chunkDigest, member);
        return member;
      })().finally(() => this.making.delete(chunkDigest));
      this.making.set(chunkDigest, made);
    }
    return made;
  }

  /** Indexed only once written: a reader never gets the bytes of a write still in flight. */
  async add(chunkDigest: string, member: Buffer): Promise<void> {
    if (this.index.has(chunkDigest)) return;
    const offset = this.size;
    this.size += member.length;
    await writeAll(this.file, member, offset);
    const sha256 = createHash('sha256').update(member).digest('hex');
    this.index.set(chunkDigest, { offset, length: member.length, sha256 });
  }

  /** The stored member; read into `into` (the view returned) when it fits there, else a new buffer. */
  async get(chunkDigest: string, into?: Buffer): Promise<Buffer | undefined> {
    const location = this.index.get(chunkDigest);
    if (!location) return undefined;
    const member =
      into && into.length >= location.length
        ? into.subarray(0, location.length)
        : Buffer.allocUnsafe(location.length);
    const source = location.adoptedFrom ?? this.file;
    let done = 0;
    while (done < location.length) {
      const { bytesRead } = await source.read(member, done, location.length - done, location.offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done === location.length && createHash('sha256').update(member).digest('hex') === location.sha256)
      return member;
    if (location.adoptedFrom) {
      this.index.delete(chunkDigest);
      return undefined;
    }
    throw new Error(`member store: ${chunkDigest} reads back other bytes than were stored`);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.adoptedFiles.map((handle) => handle.close()));
    await this.file.close();
  }
}

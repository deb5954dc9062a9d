import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { writeAll } from './write-all.ts';

/**
 * Compressed members kept in one scratch file, addressed by the sha256 of the bytes they
 * decompress to. Lives for one bake: every host's image reuses what an earlier one compressed.
 * A member read back is checked against the sha256 it was stored with: a wrong byte in the store
 * would otherwise be copied into every image that reuses it, past every later check.
 */
export class MemberStore {
  private readonly index = new Map<
    string,
    { readonly offset: number; readonly length: number; readonly sha256: string }
  >();
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
    for (let done = 0; done < location.length;) {
      const { bytesRead } = await this.file.read(
        member,
        done,
        location.length - done,
        location.offset + done,
      );
      if (bytesRead === 0) throw new Error(`member store: ${chunkDigest} ends early`);
      done += bytesRead;
    }
    if (createHash('sha256').update(member).digest('hex') !== location.sha256)
      throw new Error(`member store: ${chunkDigest} reads back other bytes than were stored`);
    return member;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

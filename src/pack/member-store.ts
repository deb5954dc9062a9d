import { type FileHandle, open } from 'node:fs/promises';

/**
 * Compressed members kept in one scratch file, addressed by the sha256 of the bytes they
 * decompress to. Lives for one bake: every host's image reuses what an earlier one compressed.
 */
export class MemberStore {
  private readonly index = new Map<string, { readonly offset: number; readonly length: number }>();
  private size = 0;

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string): Promise<MemberStore> {
    return new MemberStore(await open(path, 'w+'));
  }

  has(chunkDigest: string): boolean {
    return this.index.has(chunkDigest);
  }

  async add(chunkDigest: string, member: Buffer): Promise<void> {
    if (this.index.has(chunkDigest)) return;
    const offset = this.size;
    this.size += member.length;
    this.index.set(chunkDigest, { offset, length: member.length });
    await this.file.write(member, 0, member.length, offset);
  }

  async get(chunkDigest: string): Promise<Buffer | undefined> {
    const location = this.index.get(chunkDigest);
    if (!location) return undefined;
    const member = Buffer.allocUnsafe(location.length);
    await this.file.read(member, 0, location.length, location.offset);
    return member;
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

import path from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';
import { ToolError, UserError } from '../errors.ts';
import { command, shellQuote } from '../exec/command.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import type { ShareEntry, ShareFs, SharePiece } from './share-fs.ts';

/** Published files are world-readable: imagers read them over NFS as root, which NFS maps to nobody. */
const FILE_MODE = 0o644;
/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
/** Requests in flight per upload: enough to fill a LAN link despite the round trips. */
const UPLOAD_CONCURRENCY = 64;
const UPLOAD_CHUNK_BYTES = 32768;

/**
 * The share on data1 over SFTP: OpenSSH's extensions give hard links, atomic (POSIX) renames and
 * free space; sha256sum and rm run as commands, next to the files.
 */
export class SftpShareFs implements ShareFs {
  readonly description: string;

  constructor(
    private readonly session: SshSession,
    private readonly sftp: SFTPWrapper,
    private readonly root: string,
  ) {
    this.description = `sftp://${session.describe().split(' via ')[0] ?? ''}${root}`;
  }

  static async open(session: SshSession, root: string): Promise<SftpShareFs> {
    const sftp = await session.sftp();
    const share = new SftpShareFs(session, sftp, root);
    const entry = await share.lstat('.');
    if (entry?.type !== 'directory')
      throw new UserError(`${share.description}: ${root} is not a directory on ${session.describe()}.`, [
        `Create it there (mkdir -p ${root}) or fix the share's path, and run this again.`,
      ]);
    return share;
  }

  private resolve(relative: string): string {
    return path.posix.join(this.root, relative);
  }

  private call<T>(what: string, relative: string, run: (done: (error: unknown, value?: T) => void) => void) {
    // ssh2 does not always answer a request in flight (fastPut above all) when the connection dies.
    return new Promise<T>((resolve, reject) => {
      void this.session.closed.then(() =>
        reject(sftpError(what, this.resolve(relative), new Error('connection closed'), this.session)),
      );
      run((error, value) => {
        if (error) reject(sftpError(what, this.resolve(relative), error, this.session));
        else resolve(value as T);
      });
    });
  }

  async lstat(relative: string): Promise<ShareEntry | undefined> {
    const stats = await this.call<Stats>('lstat', relative, (done) =>
      this.sftp.lstat(this.resolve(relative), done),
    ).catch(ignoreMissing);
    if (!stats) return undefined;
    return { name: path.posix.basename(relative), type: entryType(stats.mode), size: stats.size };
  }

  async list(dir: string): Promise<ShareEntry[]> {
    const entries = await this.call<{ filename: string; attrs: Stats }[]>('readdir', dir, (done) =>
      this.sftp.readdir(this.resolve(dir), done),
    ).catch(ignoreMissing);
    return (entries ?? [])
      .filter((entry) => entry.filename !== '.' && entry.filename !== '..')
      .map((entry) => ({ name: entry.filename, type: entryType(entry.attrs.mode), size: entry.attrs.size }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async mkdirp(dir: string): Promise<void> {
    let current = '.';
    for (const part of dir.split('/').filter((p) => p && p !== '.')) {
      current = path.posix.join(current, part);
      const entry = await this.lstat(current);
      if (entry?.type === 'directory') continue;
      await this.mkdirExclusive(current);
    }
  }

  async mkdirExclusive(dir: string): Promise<boolean> {
    try {
      await this.call<undefined>('mkdir', dir, (done) =>
        this.sftp.mkdir(this.resolve(dir), { mode: 0o755 }, done),
      );
      return true;
    } catch (error) {
      // SFTP v3 has no "exists" status: look.
      if ((await this.lstat(dir)) !== undefined) return false;
      throw error;
    }
  }

  async readText(relative: string): Promise<string | undefined> {
    const data = await this.call<Buffer>('read', relative, (done) =>
      this.sftp.readFile(this.resolve(relative), done),
    ).catch(ignoreMissing);
    return data?.toString('utf8');
  }

  async writeText(relative: string, text: string): Promise<void> {
    await this.call<undefined>('write', relative, (done) =>
      this.sftp.writeFile(this.resolve(relative), text, { mode: FILE_MODE }, done),
    );
  }

  async upload(
    localFile: string,
    relative: string,
    onProgress: (sentBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    // fastPut cannot be stopped half-way: an abort closes the connection, and the next run cleans up.
    const abort = (): void => void this.session.close();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await this.call<undefined>('upload', relative, (done) =>
        this.sftp.fastPut(
          localFile,
          this.resolve(relative),
          {
            concurrency: UPLOAD_CONCURRENCY,
            chunkSize: UPLOAD_CHUNK_BYTES,
            mode: FILE_MODE,
            step: (transferred) => onProgress(transferred),
          },
          done,
        ),
      );
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  async assemble(relative: string, pieces: readonly SharePiece[]): Promise<void> {
    const output = shellQuote(this.resolve(relative));
    const lines = ['set -e', 'set -C', `: > ${output}`];
    for (const piece of pieces) {
      if (piece.length === 0) continue;
      const source = shellQuote(this.resolve(piece.source));
      lines.push(
        `dd if=${source} iflag=skip_bytes,count_bytes skip=${piece.offset} count=${piece.length} bs=1M status=none >> ${output}`,
      );
    }
    lines.push(`chmod ${FILE_MODE.toString(8)} ${output}`);
    await this.session.run(command('sh', ['-s']), { stdin: `${lines.join('\n')}\n` });
  }

  async sha256(relative: string): Promise<string> {
    const result = await this.session.run(command('sha256sum', ['--', this.resolve(relative)]));
    const digest = /^([0-9a-f]{64})\s/.exec(result.stdout)?.[1];
    if (!digest)
      throw new ToolError(
        'sha256sum printed no digest',
        `sha256sum -- ${this.resolve(relative)}`,
        'exit 0',
        result.stdout,
      );
    return digest;
  }

  async hardlink(existing: string, link: string): Promise<void> {
    await this.call<undefined>('hard link', link, (done) =>
      this.sftp.ext_openssh_hardlink(this.resolve(existing), this.resolve(link), done),
    );
  }

  async symlink(target: string, link: string): Promise<void> {
    // ssh2 puts the arguments in the order OpenSSH's server expects.
    await this.call<undefined>('symlink', link, (done) =>
      this.sftp.symlink(target, this.resolve(link), done),
    );
  }

  async readlink(relative: string): Promise<string | undefined> {
    return this.call<string>('readlink', relative, (done) =>
      this.sftp.readlink(this.resolve(relative), done),
    ).catch(ignoreMissing);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.call<undefined>('rename', to, (done) =>
      this.sftp.ext_openssh_rename(this.resolve(from), this.resolve(to), done),
    );
  }

  async removeTree(relative: string): Promise<void> {
    const target = this.resolve(relative);
    if (path.posix.relative(this.root, target).startsWith('..') || target === this.root)
      throw new Error(`refusing to remove ${target}: outside the share`);
    await this.session.run(command('rm', ['-rf', '--', target]));
  }

  async freeBytes(dir: string): Promise<number | undefined> {
    const info = await this.call<{ f_bavail: number; f_frsize: number }>('statvfs', dir, (done) =>
      this.sftp.ext_openssh_statvfs(this.resolve(dir), done),
    ).catch(() => undefined);
    const free = info ? info.f_bavail * info.f_frsize : Number.NaN;
    return Number.isFinite(free) ? free : undefined;
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}

function entryType(mode: number): ShareEntry['type'] {
  switch (mode & 0o170000) {
    case 0o040000:
      return 'directory';
    case 0o100000:
      return 'file';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

class SftpStatusError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

function sftpError(what: string, file: string, error: unknown, session: SshSession): Error {
  const code = (error as { code?: unknown }).code;
  const reason = error instanceof Error ? error.message : String(error);
  if (session.isClosed)
    return new UserError(`The connection to ${session.describe()} was lost during ${what} of ${file}.`, [
      'Nothing was switched: the current images are untouched. Run the command again.',
    ]);
  return new SftpStatusError(
    `${what} ${file} on ${session.describe()}: ${reason}`,
    typeof code === 'number' ? code : undefined,
  );
}

function ignoreMissing(error: unknown): undefined {
  if (error instanceof SftpStatusError && error.code === NO_SUCH_FILE) return undefined;
  throw error;
}

/** One entry of a share directory, as lstat sees it (a symlink is not followed). */
export interface ShareEntry {
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
}

/** `length` bytes of `source` (a share path) from `offset`. */
export interface SharePiece {
  readonly source: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * The image share, local or over SFTP. Paths are POSIX paths relative to the share's root.
 * Every method that changes the share is one step a crash can interrupt safely: callers build
 * new things under a temporary name and `rename` them into place.
 */
export interface ShareFs {
  /** For messages: `/srv/os_images` or `sftp://pi@data1:22/srv/os_images`. */
  readonly description: string;
  lstat(path: string): Promise<ShareEntry | undefined>;
  /** Entries of a directory; empty when it does not exist. */
  list(dir: string): Promise<ShareEntry[]>;
  mkdirp(dir: string): Promise<void>;
  /** Creates a directory that must not exist yet: false if it does (an atomic test-and-set). */
  mkdirExclusive(dir: string): Promise<boolean>;
  readText(path: string): Promise<string | undefined>;
  writeText(path: string, text: string): Promise<void>;
  /** Copies a local file to a new file on the share, reporting bytes sent so far. */
  upload(
    localFile: string,
    path: string,
    onProgress: (sentBytes: number) => void,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Writes a new file on the share from byte ranges of files already there, in order (no bytes
   * travel: on data1 the copying runs there).
   */
  assemble(path: string, pieces: readonly SharePiece[]): Promise<void>;
  /** The sha256 of a file, computed where the file is (on data1 for SFTP). */
  sha256(path: string): Promise<string>;
  hardlink(existing: string, link: string): Promise<void>;
  symlink(target: string, link: string): Promise<void>;
  readlink(path: string): Promise<string | undefined>;
  /** POSIX rename: atomically replaces `to` if it is a file or symlink. */
  rename(from: string, to: string): Promise<void>;
  removeTree(path: string): Promise<void>;
  /** Bytes available to this user in the filesystem holding `dir`; undefined if unknown. */
  freeBytes(dir: string): Promise<number | undefined>;
  close(): Promise<void>;
}

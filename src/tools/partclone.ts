import { type Command, command } from '../exec/command.ts';

/**
 * partclone on plain files. Always pass -L: the default log is under /var/log, which an
 * unprivileged user cannot write. The 10 MiB buffer is what Clonezilla uses, so re-cloned
 * images carry the same checksum grouping as the ones it saves. `-f 0`: partclone's progress
 * thread otherwise sleeps out its refresh interval (about 2 s) before the process may exit; `-B`
 * keeps that progress output short. Never `-q`: partclone.chkimg -q exits 0 without checking.
 */
const NO_PROGRESS_WAIT = ['-f', '0', '-B'];
const CLONEZILLA_BUFFER = '10485760';

export function partcloneProgram(fs: string): string {
  return `partclone.${fs}`;
}

/** Restores a partclone stream read from stdin into a new sparse file (-W: a plain file, not a device). */
export function restoreToFileCommand(fs: string, output: string, log: string): Command {
  return command(partcloneProgram(fs), [...NO_PROGRESS_WAIT, '-r', '-W', '-s', '-', '-O', output, '-L', log]);
}

/** Clones a filesystem image file to a partclone stream on stdout. */
export function cloneToStdoutCommand(fs: string, source: string, log: string): Command {
  return cloneCommand(fs, source, '-', log);
}

/** Clones a filesystem image file to a partclone stream in a new file (-o refuses an existing one). */
export function cloneToFileCommand(fs: string, source: string, output: string, log: string): Command {
  return cloneCommand(fs, source, output, log);
}

function cloneCommand(fs: string, source: string, output: string, log: string): Command {
  return command(partcloneProgram(fs), [
    ...NO_PROGRESS_WAIT,
    '-z',
    CLONEZILLA_BUFFER,
    '-c',
    '-s',
    source,
    '-o',
    output,
    '-L',
    log,
  ]);
}

export const CHKIMG_SUCCESS = /Checked successfully/;

/**
 * Verifies a partclone stream read from `source` (`-`: stdin); success is exit 0 and CHKIMG_SUCCESS
 * in its output.
 */
export function checkImageCommand(log: string, source = '-'): Command {
  return command('partclone.chkimg', [...NO_PROGRESS_WAIT, '-s', source, '-L', log]);
}

export const PARTCLONE_MAGIC = 'partclone-image';
const CRC32_MODE = 0x20;

export interface PartcloneHeader {
  readonly version: string;
  readonly fsType: string;
  readonly blockSize: number;
  readonly checksumMode: number;
}

/** Reads the v2 image header (110 bytes); undefined when the bytes are not a partclone image. */
export function parsePartcloneHeader(bytes: Buffer): PartcloneHeader | undefined {
  if (bytes.length < 110 || bytes.toString('latin1', 0, 15) !== PARTCLONE_MAGIC) return undefined;
  const version = bytes.toString('latin1', 30, 34);
  const fsType = bytes.toString('latin1', 36, 52).replace(/\0.*$/s, '');
  return { version, fsType, blockSize: bytes.readUInt32LE(84), checksumMode: bytes.readUInt16LE(96) };
}

/** Debian 12's partclone reads v1 images and v2 images with CRC32 checksums only. */
export function isReadableHere(header: PartcloneHeader): boolean {
  return (
    header.version === '0001' ||
    (header.version === '0002' && (header.checksumMode === CRC32_MODE || header.checksumMode === 0))
  );
}

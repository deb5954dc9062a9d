import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { listPartitionImages, type PartitionImage } from './partition-images.ts';
import { runBash, runTool, spawnTool } from './spawn-tool.ts';

/*
 * Fast read-back of a Clonezilla image without ocs-sr: each partition image is restored by the real
 * partclone into a sparse file, then read with mtools (FAT) or debugfs (ext4). Everything here drives
 * the tools directly, never the bake's own code.
 */

const DECOMPRESS: Readonly<Record<string, string>> = { gz: 'pigz -d -c', zst: 'zstd -d -c -q' };

function decompressor(image: PartitionImage): string {
  const program = DECOMPRESS[image.codec];
  if (!program) throw new Error(`no decompressor for .${image.codec}`);
  return program;
}

export interface RestoredPartition {
  readonly image: PartitionImage;
  /** A sparse file holding the filesystem. */
  readonly file: string;
}

export interface RestoredImage {
  readonly partitions: readonly RestoredPartition[];
  /** The FAT partition (there is one in every image here). */
  readonly boot: string;
  /** The ext4 partition. */
  readonly root: string;
}

/** `cat pieces | decompress | partclone.<fs> -r -W -s - -O FILE`, for every partition image of the dir. */
export async function restorePartitionFiles(imageDir: string, workDir: string): Promise<RestoredImage> {
  const partitions: RestoredPartition[] = [];
  for (const image of await listPartitionImages(imageDir)) {
    const file = path.join(workDir, `${image.partition}.${image.fsType}.img`);
    const log = path.join(workDir, `${image.partition}.restore.log`);
    await runBash(
      `cat "\${@:4}" | ${decompressor(image)} | partclone."$1" -f 0 -r -W -s - -O "$2" -L "$3" >/dev/null`,
      [image.fsType, file, log, ...image.files.map((name) => path.join(imageDir, name))],
    );
    partitions.push({ image, file });
  }
  const boot = partitions.find((p) => ['vfat', 'fat32', 'fat16'].includes(p.image.fsType));
  const root = partitions.find((p) => p.image.fsType.startsWith('ext'));
  if (!boot || !root) throw new Error(`${imageDir}: expected a FAT and an ext partition image`);
  return { partitions, boot: boot.file, root: root.file };
}

export interface CheckedImage {
  readonly files: readonly string[];
  readonly ok: boolean;
  /** The tail of partclone.chkimg's log, for assertion messages. */
  readonly report: string;
}

/** `cat pieces | decompress | partclone.chkimg -s -` over one partition image: exit 0 and its success line. */
export async function checkWithChkimg(
  imageDir: string,
  image: PartitionImage,
  logDir: string,
): Promise<CheckedImage> {
  const log = path.join(logDir, `chkimg-${path.basename(imageDir)}-${image.partition}.log`);
  const result = await spawnTool(
    'bash',
    [
      '-o',
      'pipefail',
      '-c',
      `cat "\${@:2}" | ${decompressor(image)} | partclone.chkimg -f 0 -s - -L "$1"`,
      'bash',
      log,
      ...image.files.map((name) => path.join(imageDir, name)),
    ],
    { timeoutMs: 120_000 },
  );
  const text = await readFile(log, 'utf8').catch(() => '');
  const ok = result.exitCode === 0 && /Partclone successfully checked the image/.test(text);
  const report = `exit ${result.exitCode ?? result.signal ?? '?'}\n${result.stderr.trim()}\n${text.trim().split('\n').slice(-4).join('\n')}`;
  return { files: image.files, ok, report };
}

/** Runs partclone.chkimg over every partition image of the dir. */
export async function checkAllPartitionImages(imageDir: string, logDir: string): Promise<CheckedImage[]> {
  const checked: CheckedImage[] = [];
  for (const image of await listPartitionImages(imageDir))
    checked.push(await checkWithChkimg(imageDir, image, logDir));
  return checked;
}

const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };

/** A file's bytes from a FAT image (or `disk.img@@OFFSET`). */
export async function readFatBytes(image: string, file: string): Promise<Buffer> {
  return runTool('mcopy', ['-n', '-i', image, `::/${file.replace(/^\//, '')}`, '-'], { env: MTOOLS_ENV });
}

export async function readFatString(image: string, file: string): Promise<string> {
  return (await readFatBytes(image, file)).toString('utf8');
}

/** Every file (not directory) of a FAT image, as '/'-separated paths without a leading slash, sorted. */
export async function listFatFiles(image: string): Promise<string[]> {
  const output = await runTool('mdir', ['-/', '-b', '-i', image, '::/'], { env: MTOOLS_ENV });
  return output
    .toString('utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^::\/?/, ''))
    .sort();
}

export interface Ext4Entry {
  readonly type: string;
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** A symlink's target. */
  readonly linkTo?: string;
}

function debugfsPath(file: string): string {
  if (/["\n]/.test(file)) throw new Error(`unsupported path for debugfs: ${file}`);
  return `"/${file.replace(/^\//, '')}"`;
}

/** debugfs exits 0 when a request fails: any stderr line but its banner is a failure. */
async function debugfs(image: string, request: string): Promise<Buffer> {
  const result = await spawnTool('debugfs', ['-R', request, image], { timeoutMs: 60_000 });
  const problems = result.stderr
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^debugfs \d/.test(line));
  if (result.exitCode !== 0 || problems.length > 0) {
    throw new Error(
      `debugfs -R '${request}' ${image}: ${problems.join('; ') || `exit ${result.exitCode ?? '?'}`}`,
    );
  }
  return result.stdout;
}

export async function readExt4Bytes(image: string, file: string): Promise<Buffer> {
  return debugfs(image, `cat ${debugfsPath(file)}`);
}

export async function readExt4String(image: string, file: string): Promise<string> {
  return (await readExt4Bytes(image, file)).toString('utf8');
}

/** undefined when the path does not exist. */
export async function statExt4Entry(image: string, file: string): Promise<Ext4Entry | undefined> {
  let output: string;
  try {
    output = (await debugfs(image, `stat ${debugfsPath(file)}`)).toString('utf8');
  } catch (error) {
    if (/File not found/.test((error as Error).message)) return undefined;
    throw error;
  }
  const [, type, mode] = /Type:\s+(\S+)\s+Mode:\s+([0-7]+)/.exec(output) ?? [];
  const [, uid, gid, size] =
    /User:\s+(\d+)\s+Group:\s+(\d+)(?:\s+Project:\s+\d+)?\s+Size:\s+(\d+)/.exec(output) ?? [];
  if (!type || !mode || !uid || !gid || !size)
    throw new Error(`cannot parse debugfs stat of ${file}:\n${output}`);
  const linkTo = /Fast link dest: "(.*)"/.exec(output)?.[1];
  return {
    type,
    mode: Number.parseInt(mode, 8),
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    ...(linkTo === undefined ? {} : { linkTo }),
  };
}

/** e2fsck -fn (read-only, forced): throws with its report unless the filesystem is clean. */
export async function assertExt4Clean(image: string): Promise<void> {
  await runTool('e2fsck', ['-f', '-n', image]);
}

/** fsck.vfat -n (read-only): throws with its report unless the filesystem is clean. */
export async function assertFatClean(image: string): Promise<void> {
  const output = await runTool('fsck.vfat', ['-n', image]);
  if (/differ|corrupt|invalid|Free cluster summary wrong/i.test(output.toString('utf8'))) {
    throw new Error(`fsck.vfat -n ${image}:\n${output.toString('utf8')}`);
  }
}

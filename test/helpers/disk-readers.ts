import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';

/** Read-only views into a whole-disk image file: no root, no loop device, no mount. */

export interface DiskPartition {
  readonly number: number;
  readonly start: number;
  readonly size: number;
  readonly type: string;
}

export interface DiskTable {
  /** 8 lower-case hex digits, without 0x */
  readonly diskId: string;
  readonly partitions: readonly DiskPartition[];
}

interface SfdiskJson {
  partitiontable: { id: string; partitions: { node: string; start: number; size: number; type: string }[] };
}

export async function readDiskTable(diskFile: string): Promise<DiskTable> {
  const { stdout } = await runCommand(command('sfdisk', ['-J', diskFile]));
  const table = (JSON.parse(stdout) as SfdiskJson).partitiontable;
  return {
    diskId: table.id.replace(/^0x/, '').toLowerCase().padStart(8, '0'),
    partitions: table.partitions.map((p) => ({
      number: Number(/(\d+)$/.exec(p.node)?.[1]),
      start: p.start,
      size: p.size,
      type: p.type,
    })),
  };
}

const FAT_TYPES = new Set(['b', 'c', 'e', 'ef']);

/** Byte offset of the first FAT partition ('boot') or the first Linux partition ('root'). */
export async function partitionOffset(diskFile: string, role: 'boot' | 'root'): Promise<number> {
  const { partitions } = await readDiskTable(diskFile);
  const found = partitions.find((p) => (role === 'boot' ? FAT_TYPES.has(p.type) : p.type === '83'));
  if (!found) throw new Error(`${diskFile} has no ${role} partition`);
  return found.start * 512;
}

const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };

export async function readFatText(diskFile: string, offset: number, file: string): Promise<string> {
  const target = `::/${file.replace(/^\//, '')}`;
  const { stdout } = await runCommand(
    command('mtype', ['-i', `${diskFile}@@${offset}`, target], { env: MTOOLS_ENV }),
  );
  return stdout;
}

export async function listFatDir(diskFile: string, offset: number, dir = '/'): Promise<string[]> {
  const target = `::/${dir.replace(/^\//, '')}`;
  const { stdout } = await runCommand(
    command('mdir', ['-b', '-i', `${diskFile}@@${offset}`, target], { env: MTOOLS_ENV }),
  );
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => line.replace(/\/$/, '').split('/').pop() ?? line);
}

export interface Ext4FileStat {
  readonly type: string;
  /** Permission bits, e.g. 0o644 */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** debugfs exits 0 when a request fails: its stderr is the only signal. */
async function debugfsRequest(diskFile: string, offset: number, request: string): Promise<string> {
  const { stdout, stderr } = await runCommand(
    command('debugfs', ['-R', request, `${diskFile}?offset=${offset}`]),
  );
  const problems = stderr.split('\n').filter((line) => line.trim() !== '' && !/^debugfs \d/.test(line));
  if (problems.length > 0) throw new Error(`debugfs ${request}: ${problems.join('; ')}`);
  return stdout;
}

function quoted(file: string): string {
  if (/["\n]/.test(file)) throw new Error(`unsupported path for debugfs: ${file}`);
  return `"/${file.replace(/^\//, '')}"`;
}

export async function readExt4Text(diskFile: string, offset: number, file: string): Promise<string> {
  return debugfsRequest(diskFile, offset, `cat ${quoted(file)}`);
}

export async function statExt4(diskFile: string, offset: number, file: string): Promise<Ext4FileStat> {
  const output = await debugfsRequest(diskFile, offset, `stat ${quoted(file)}`);
  const [, type, mode] = /Type:\s+(\S+)\s+Mode:\s+([0-7]+)/.exec(output) ?? [];
  const [, uid, gid] = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(output) ?? [];
  if (!type || !mode || !uid || !gid) throw new Error(`cannot parse debugfs stat of ${file}:\n${output}`);
  return { type, mode: Number.parseInt(mode, 8), uid: Number(uid), gid: Number(gid) };
}

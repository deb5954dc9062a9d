import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { command, formatCommand } from '../exec/command.ts';
import { runCommand, runCommandForBytes } from '../exec/run-command.ts';
import { formatSeconds } from '../format-units.ts';

/** debugfs (e2fsprogs) edits and reads ext4 images without mounting them. */

const BANNER = /^debugfs \d/;

export interface Ext4Stat {
  readonly type: 'regular' | 'directory' | 'symlink' | 'other';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

/**
 * debugfs exits 0 even when a request fails; the only signal is a line on stderr.
 * Every stderr line but the version banner is therefore a failure.
 */
function requestFailures(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !BANNER.test(line));
}

export interface DebugfsEnv {
  /** Pins inode and superblock times so the same edits give the same bytes. */
  readonly fakeTime: number;
}

export async function runDebugfsRequests(
  image: string,
  requests: readonly string[],
  options: { readonly writable: boolean; readonly workDir: string; readonly env?: DebugfsEnv },
): Promise<string> {
  const script = path.join(options.workDir, `debugfs-${process.pid}-${Date.now()}.cmds`);
  await writeFile(script, requests.join('\n') + '\n');
  const cmd = command('debugfs', [...(options.writable ? ['-w'] : []), '-f', script, image], {
    env: options.env ? { E2FSPROGS_FAKE_TIME: String(options.env.fakeTime) } : {},
  });
  const result = await runCommand(cmd);
  const failures = requestFailures(result.stderr);
  if (failures.length > 0) {
    throw new ToolError(
      `debugfs could not apply ${failures.length} request(s) to ${image} after ${formatSeconds(result.durationMs)}`,
      `${formatCommand(cmd)}  # requests: ${requests.join('; ')}`,
      'exit 0 with errors',
      failures.join('\n'),
    );
  }
  return result.stdout;
}

const STAT_TYPE = /Type:\s+(\w+)\s+Mode:\s+(\d+)/;
const STAT_OWNER = /User:\s+(\d+)\s+Group:\s+(\d+)(?:\s+Project:\s+\d+)?\s+Size:\s+(\d+)/;

export function parseExt4Stat(output: string): Ext4Stat | undefined {
  const typeMatch = STAT_TYPE.exec(output);
  const ownerMatch = STAT_OWNER.exec(output);
  if (!typeMatch || !ownerMatch) return undefined;
  const kind = typeMatch[1];
  return {
    type: kind === 'regular' || kind === 'directory' || kind === 'symlink' ? kind : 'other',
    mode: Number.parseInt(typeMatch[2] ?? '0', 8),
    uid: Number(ownerMatch[1]),
    gid: Number(ownerMatch[2]),
    size: Number(ownerMatch[3]),
  };
}

/** Stats every path in one debugfs run (read-only); a path that does not exist maps to undefined. */
export async function statExt4Paths(
  image: string,
  paths: readonly string[],
  workDir: string,
): Promise<ReadonlyMap<string, Ext4Stat | undefined>> {
  const script = path.join(workDir, `debugfs-stat-${process.pid}-${Date.now()}.cmds`);
  await writeFile(script, paths.map((target) => `stat ${debugfsPath(target)}`).join('\n') + '\n');
  const result = await runCommand(command('debugfs', ['-f', script, image]));
  // With -f, debugfs echoes each request as "debugfs: <request>" before its output.
  const sections = result.stdout.split(/^debugfs: stat .*$/m).slice(1);
  return new Map(paths.map((target, index) => [target, parseExt4Stat(sections[index] ?? '')]));
}

/** Reads a file's bytes; debugfs prints nothing (not an error) for a missing file, so stat first. */
export async function readExt4File(image: string, target: string): Promise<Buffer> {
  return runCommandForBytes(command('debugfs', ['-R', `cat ${debugfsPath(target)}`, image]));
}

/** debugfs splits requests on whitespace; quoting with double quotes keeps a path whole. */
export function debugfsPath(target: string): string {
  if (/["\n]/.test(target)) throw new Error(`unsupported character in ext4 path: ${target}`);
  return /\s/.test(target) ? `"${target}"` : target;
}

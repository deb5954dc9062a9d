import { createHash } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.ts';
import { command, formatCommand } from '../exec/command.ts';
import { runCommand } from '../exec/run-command.ts';
import { ROOT_OWNER, sampleRootEntries, type Owner, type RootEntry } from './root-files.ts';
import { SAMPLE_EPOCH_SECONDS, SECTOR_BYTES, type SampleLayout } from './sample-layout.ts';
import { listStagedPaths, mergeExtraDir, type StagedPath } from './staging-dir.ts';

const E2FS_ENV = { E2FSPROGS_FAKE_TIME: String(SAMPLE_EPOCH_SECONDS) };

/** Makes the ext4 `rootfs` filesystem inside the disk file, at the root partition's offset, populated. */
export async function writeRootFilesystem(
  layout: SampleLayout,
  diskFile: string,
  workDir: string,
): Promise<void> {
  const staging = path.join(workDir, 'root');
  const entries = sampleRootEntries(layout);
  await stageRootEntries(entries, staging);
  if (layout.rootExtraDir) await mergeExtraDir(layout.rootExtraDir, staging);

  const offset = layout.root.startSector * SECTOR_BYTES;
  await runCommand(populatedExt4Command(layout, diskFile, staging));
  await fixInodes(`${diskFile}?offset=${offset}`, await listStagedPaths(staging), entries, workDir);
}

/** mke2fs making the `rootfs` filesystem at the root partition's offset, filled from `sourceDir`. */
export function populatedExt4Command(layout: SampleLayout, diskFile: string, sourceDir: string) {
  const uuid = rootFsUuid(layout.diskId);
  return command(
    'mke2fs',
    [
      '-q',
      '-F',
      '-t',
      'ext4',
      '-T',
      'default',
      '-L',
      'rootfs',
      '-U',
      uuid,
      '-E',
      `root_owner=0:0,offset=${layout.root.startSector * SECTOR_BYTES},hash_seed=${uuid},nodiscard`,
      '-d',
      sourceDir,
      diskFile,
      `${(layout.root.sizeSectors * SECTOR_BYTES) / 1024}k`,
    ],
    { env: E2FS_ENV },
  );
}

async function stageRootEntries(entries: readonly RootEntry[], staging: string): Promise<void> {
  await mkdir(staging, { recursive: true });
  for (const entry of entries) {
    const target = path.join(staging, entry.path);
    if (entry.kind === 'dir') await mkdir(target);
    else if (entry.kind === 'symlink') await symlink(entry.target, target);
    else await writeFile(target, entry.content);
    // chmod after creation: the umask must not decide the modes in the image.
    if (entry.kind !== 'symlink') await chmod(target, entry.mode);
  }
}

/**
 * mke2fs -d copies each staged file's uid, gid and ctime; a non-root caller's staging dir is
 * its own. So every inode gets its intended owner and the pinned times here.
 */
async function fixInodes(
  image: string,
  staged: readonly StagedPath[],
  entries: readonly RootEntry[],
  workDir: string,
): Promise<void> {
  const owners = new Map<string, Owner>();
  for (const entry of entries)
    if (entry.kind !== 'symlink' && entry.owner) owners.set(entry.path, entry.owner);
  const ownPaths = new Set(entries.map((entry) => entry.path));
  const time = `@${SAMPLE_EPOCH_SECONDS}`;
  const requests: string[] = [];
  for (const item of staged) {
    if (/["\n\\]/.test(item.path))
      throw new Error(`cannot stage a file name with a quote or newline: ${item.path}`);
    const target = `"/${item.path}"`;
    const owner = owners.get(item.path) ?? ROOT_OWNER;
    if (item.uid !== owner.uid) requests.push(`sif ${target} uid ${owner.uid}`);
    if (item.gid !== owner.gid) requests.push(`sif ${target} gid ${owner.gid}`);
    requests.push(`sif ${target} ctime ${time}`, `sif ${target} atime ${time}`);
    // Merged files keep their own mtime; staged sample files and every directory get the pinned one.
    if (item.isDirectory || ownPaths.has(item.path)) requests.push(`sif ${target} mtime ${time}`);
  }
  const script = path.join(workDir, 'fix-inodes.debugfs');
  await writeFile(script, requests.join('\n') + '\n');
  const cmd = command('debugfs', ['-w', '-f', script, image], { env: E2FS_ENV });
  const { stderr } = await runCommand(cmd);
  // debugfs exits 0 even when a request fails: stderr is the only signal.
  const failures = stderr.split('\n').filter((line) => line.trim() !== '' && !/^debugfs \d/.test(line));
  if (failures.length > 0) {
    throw new ToolError(
      'debugfs could not fix the sample root inodes',
      formatCommand(cmd),
      'exit 0',
      failures.join('\n'),
    );
  }
}

export function rootFsUuid(diskId: string): string {
  const hex = createHash('sha256').update(`rootfs:${diskId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { isProcessAlive } from '../exec/is-process-alive.ts';
import { buildSampleOs, SAMPLE_OS_FILES } from './build-sample-os.ts';
import { sampleOsKey, sampleOsSpec, type SampleOsFlavour } from './sample-os-spec.ts';

export interface SampleOs {
  readonly dir: string;
  readonly disk: string;
  readonly privateKey: string;
  readonly publicKey: string;
}

/** Shared by every checkout and test run on the machine: the build takes minutes. */
export function sampleOsCacheRoot(): string {
  return (
    process.env.PI_LAB_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'pi-lab')
  );
}

const LOCK_POLL_MS = 2000;

/**
 * The bootable sample of this flavour, built once per set of inputs. An entry appears by rename
 * only once complete; a lock directory holding the builder's pid keeps two builders apart, and a
 * lock or build left by a dead process is cleared.
 */
export async function ensureSampleOs(
  flavour: SampleOsFlavour,
  log: (line: string) => void = () => undefined,
  cacheRoot = sampleOsCacheRoot(),
): Promise<SampleOs> {
  const spec = sampleOsSpec(flavour);
  const entry = path.join(cacheRoot, 'sample-os', `${flavour}-${sampleOsKey(spec)}`);
  const files = entryFiles(entry);
  if (await isComplete(files)) return files;
  await mkdir(path.dirname(entry), { recursive: true });
  const lock = `${entry}.lock`;
  await acquireLock(lock, log);
  try {
    if (await isComplete(files)) return files;
    await removeAbandoned(entry);
    const building = `${entry}.building-${process.pid}`;
    await mkdir(building);
    try {
      await buildSampleOs(spec, building, log);
      await writeFile(path.join(building, 'spec.json'), `${JSON.stringify(spec, null, 2)}\n`);
      await rename(building, entry);
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      throw error;
    }
    return files;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

function entryFiles(dir: string): SampleOs {
  return {
    dir,
    disk: path.join(dir, SAMPLE_OS_FILES.disk),
    privateKey: path.join(dir, SAMPLE_OS_FILES.privateKey),
    publicKey: path.join(dir, SAMPLE_OS_FILES.publicKey),
  };
}

async function isComplete(files: SampleOs): Promise<boolean> {
  const present = await Promise.all(
    [files.disk, files.privateKey, files.publicKey, path.join(files.dir, 'spec.json')].map((file) =>
      stat(file).then(
        () => true,
        () => false,
      ),
    ),
  );
  return present.every(Boolean);
}

async function acquireLock(lock: string, log: (line: string) => void): Promise<void> {
  let told = false;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(path.join(lock, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''));
    if (owner > 0 && !isProcessAlive(owner)) {
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (!told) log(`waiting for process ${owner || '?'}, which is building the same sample image…`);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

async function removeAbandoned(entry: string): Promise<void> {
  const prefix = `${path.basename(entry)}.building-`;
  for (const name of await readdir(path.dirname(entry))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    const dir = path.join(path.dirname(entry), name);
    if (isProcessAlive(pid)) continue;
    await refuseIfMountedUnder(dir);
    await rm(dir, { recursive: true, force: true });
  }
  await rm(entry, { recursive: true, force: true });
}

/**
 * A build killed mid-way can leave mmdebstrap's /proc, /sys or /dev mounts behind: removing the
 * tree through them would reach the host's own. Say what to unmount instead.
 */
export async function refuseIfMountedUnder(dir: string): Promise<void> {
  const mounts = (await readFile('/proc/mounts', 'utf8').catch(() => ''))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  if (mounts.length === 0) return;
  throw new UserError(
    `${dir} is left over from a killed build and still has ${mounts.length} mounts under it.`,
    [
      `Unmount them first: grep -F '${dir}' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r umount -l`,
      `then remove it: rm -rf '${dir}'`,
    ],
  );
}

import { spawnSync } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import { lstat, readdir, readFile, realpath, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { withSlot } from './dir-lock.ts';
import { isProcessAlive, TEST_TEMP_PID } from './temp-dir.ts';

export const needsRoot = true;

/*
 * Containers here have no udev: `partx -a` registers partitions in the kernel but nothing creates
 * /dev/loopNpM, so the nodes are made by hand from /sys. Devices are attached WITHOUT -P: with
 * partition scanning on, the re-read that sfdisk triggers drops the partitions partx added.
 */

export interface LoopDevice {
  /** e.g. /dev/loop3 */
  readonly device: string;
  /** e.g. loop3: what ocs-sr takes as the disk name */
  readonly name: string;
  readonly file: string;
  partitionDevice(partition: number): string;
  /** Makes the kernel's partitions and the /dev nodes match the partition table on the disk. */
  syncPartitions(): Promise<void>;
  /** Keeps syncing until the returned function is called (ocs-sr waits for nodes no udev will make). */
  startBackgroundSync(intervalMs?: number): () => Promise<void>;
  /** Idempotent; safe after a failed attach or a crash half-way. */
  detach(): Promise<void>;
}

interface Partition {
  readonly nr: number;
  readonly start: number;
  readonly size: number;
}

interface KernelPartition extends Partition {
  readonly major: number;
  readonly minor: number;
}

const attached = new Set<AttachedLoop>();

/**
 * Reaping and attaching hold one machine-wide lock: a reaper acting on a stale listing would
 * otherwise detach the device another test has just been given under the same number.
 */
const LOOP_LOCK = path.join(os.tmpdir(), 'pi-lab-locks', 'loop-attach');
const LOOP_LOCK_WAIT_MS = 120_000;

export async function attachLoop(file: string): Promise<LoopDevice> {
  const backingFile = await realpath(file);
  const device = await withSlot(LOOP_LOCK, 1, LOOP_LOCK_WAIT_MS, async () => {
    await reapLeakedLoopsLocked();
    return losetupFind(backingFile);
  });
  const loop = new AttachedLoop(device, backingFile);
  attached.add(loop);
  try {
    await loop.syncPartitions();
  } catch (error) {
    await loop.detach();
    throw error;
  }
  return loop;
}

async function losetupFind(file: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await runCommand(command('losetup', ['-f', '--show', file]))).stdout.trim();
    } catch (error) {
      // Another process may take the device losetup picked between its lookup and its attach.
      if (attempt >= 5) throw error;
      await sleep(100 * attempt);
    }
  }
}

class AttachedLoop implements LoopDevice {
  readonly name: string;
  private readonly madeNodes = new Set<string>();
  private detached = false;
  private stopSync: (() => Promise<void>) | undefined;

  constructor(
    readonly device: string,
    readonly file: string,
  ) {
    this.name = device.replace(/^\/dev\//, '');
  }

  partitionDevice(partition: number): string {
    return `/dev/${this.name}p${partition}`;
  }

  async syncPartitions(): Promise<void> {
    const wanted = await readDiskPartitions(this.device);
    for (const present of await readKernelPartitions(this.name)) {
      const match = wanted.find((p) => p.nr === present.nr);
      if (!match || match.start !== present.start || match.size !== present.size) {
        await partx(['-d', '--nr', String(present.nr), this.device]);
      }
    }
    const present = await readKernelPartitions(this.name);
    for (const p of wanted) {
      if (!present.some((k) => k.nr === p.nr)) await partx(['-a', '--nr', String(p.nr), this.device]);
    }
    const final = await readKernelPartitions(this.name);
    await this.syncNodes(final);
    const missing = wanted.filter(
      (p) => !final.some((k) => k.nr === p.nr && k.start === p.start && k.size === p.size),
    );
    if (missing.length > 0) {
      throw new Error(
        `${this.device}: kernel partitions ${missing.map((p) => p.nr).join(', ')} do not match the disk`,
      );
    }
  }

  private async syncNodes(partitions: readonly KernelPartition[]): Promise<void> {
    for (const p of partitions) {
      const node = this.partitionDevice(p.nr);
      const existing = await lstat(node).catch(() => undefined);
      if (existing?.isBlockDevice() && deviceNumber(existing.rdev) === `${p.major}:${p.minor}`) continue;
      // A node left from an earlier user of this loop number may point at someone else's partition.
      if (existing) await unlink(node).catch(() => undefined);
      await runCommand(command('mknod', ['-m', '0600', node, 'b', String(p.major), String(p.minor)])).catch(
        async (error: unknown) => {
          // devtmpfs may have made it meanwhile.
          if (!(await lstat(node).catch(() => undefined))) throw error;
        },
      );
      this.madeNodes.add(node);
    }
    const wanted = new Set(partitions.map((p) => this.partitionDevice(p.nr)));
    for (const node of await listPartitionNodes(this.name)) {
      if (!wanted.has(node)) {
        await unlink(node).catch(() => undefined);
        this.madeNodes.delete(node);
      }
    }
  }

  startBackgroundSync(intervalMs = 200): () => Promise<void> {
    const state = { stopped: false };
    const running = (async () => {
      while (!state.stopped) {
        // Mid-write tables and busy partitions are expected here: the next round catches up.
        await this.syncPartitions().catch(() => undefined);
        await sleep(intervalMs);
      }
    })();
    const stop = async (): Promise<void> => {
      state.stopped = true;
      await running;
      if (this.stopSync === stop) this.stopSync = undefined;
    };
    this.stopSync = stop;
    return stop;
  }

  async detach(): Promise<void> {
    if (this.detached) return;
    await this.stopSync?.();
    if (await isStillOurs(this.name, this.file)) {
      await removePartitions(this.device, this.name);
      for (const node of this.madeNodes) await unlink(node).catch(() => undefined);
      await runCommand(command('losetup', ['-d', this.device]));
    }
    this.detached = true;
    attached.delete(this);
  }

  detachSync(): void {
    if (this.detached) return;
    spawnSync('partx', ['-d', this.device], { stdio: 'ignore' });
    for (const node of this.madeNodes) {
      try {
        unlinkSync(node);
      } catch {
        // already gone
      }
    }
    spawnSync('losetup', ['-d', this.device], { stdio: 'ignore' });
    this.detached = true;
  }
}

// A test that throws still runs its finally; this covers a worker that exits without unwinding.
process.once('exit', () => {
  for (const loop of attached) loop.detachSync();
});

async function partx(args: readonly string[]): Promise<void> {
  await runCommand(command('partx', args)).catch(() => undefined);
}

async function removePartitions(device: string, name: string): Promise<void> {
  for (let attempt = 1; attempt <= 10; attempt++) {
    await partx(['-d', device]);
    if ((await readKernelPartitions(name)).length === 0) return;
    await sleep(200);
  }
}

async function isStillOurs(name: string, file: string): Promise<boolean> {
  const backing = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => '');
  return backing.trim().replace(/ \(deleted\)$/, '') === file;
}

async function readDiskPartitions(device: string): Promise<Partition[]> {
  const result = await runCommand(command('partx', ['-g', '-r', '-o', 'NR,START,SECTORS', device])).catch(
    () => undefined,
  );
  if (!result) return [];
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .flatMap(([nr, start, size]) =>
      nr !== undefined &&
      start !== undefined &&
      size !== undefined &&
      [nr, start, size].every(Number.isFinite)
        ? [{ nr, start, size }]
        : [],
    );
}

async function readKernelPartitions(name: string): Promise<KernelPartition[]> {
  const entries = await readdir(`/sys/block/${name}`).catch(() => [] as string[]);
  const partitions: KernelPartition[] = [];
  for (const entry of entries.filter((e) => new RegExp(`^${name}p\\d+$`).test(e))) {
    const dir = `/sys/block/${name}/${entry}`;
    const read = (field: string) => readFile(`${dir}/${field}`, 'utf8').then((text) => text.trim());
    // A partition can vanish between readdir and these reads.
    const fields = await Promise.all([read('partition'), read('start'), read('size'), read('dev')]).catch(
      () => undefined,
    );
    if (!fields) continue;
    const [nr, start, size, dev] = fields;
    const [major, minor] = dev.split(':').map(Number);
    if (major === undefined || minor === undefined) continue;
    partitions.push({ nr: Number(nr), start: Number(start), size: Number(size), major, minor });
  }
  return partitions;
}

async function listPartitionNodes(name: string): Promise<string[]> {
  const pattern = new RegExp(`^${name}p\\d+$`);
  return (await readdir('/dev')).filter((entry) => pattern.test(entry)).map((entry) => `/dev/${entry}`);
}

function deviceNumber(rdev: number): string {
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
  return `${major}:${minor}`;
}

/** Detaches loop devices whose backing file lives in a test temp dir of a process that is gone. */
export async function reapLeakedLoops(): Promise<void> {
  await withSlot(LOOP_LOCK, 1, LOOP_LOCK_WAIT_MS, reapLeakedLoopsLocked);
}

async function reapLeakedLoopsLocked(): Promise<void> {
  const listing = await runCommand(
    command('losetup', ['--list', '--noheadings', '--raw', '-O', 'NAME,BACK-FILE']),
  );
  for (const line of listing.stdout.split('\n')) {
    const [device, ...rest] = line.trim().split(' ');
    const pid = TEST_TEMP_PID.exec(rest.join(' '))?.[1];
    if (!device || !pid || isProcessAlive(Number(pid))) continue;
    const name = device.replace(/^\/dev\//, '');
    await removePartitions(device, name);
    for (const node of await listPartitionNodes(name)) await unlink(node).catch(() => undefined);
    await runCommand(command('losetup', ['-d', device])).catch(() => undefined);
  }
}

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeError, UserError } from '../errors.ts';
import { readManifest, type Manifest } from '../image/manifest.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import { readFatFile } from '../tools/mtools.ts';
import { BootCheckFailure, bootUntilUp, type BootRecord, type RunningVm, type VmSpec } from './boot-vm.ts';
import { copyRawDisk, restoreDiskFile, type RestoredDisk } from './disk-from-image.ts';
import type { CheckResult, HostExpectation } from './guest-checks.ts';

export interface HostBootResult {
  readonly host: string;
  readonly ok: boolean;
  readonly version: string | undefined;
  readonly checks: readonly CheckResult[];
  readonly boots: readonly BootRecord[];
  readonly seconds: {
    readonly disk: number;
    readonly boot: number;
    readonly checks: number;
    readonly total: number;
  };
  readonly logs: readonly string[];
  readonly error?: string;
}

export interface Booted {
  readonly session: SshSession;
  /** The address the host was reached at (its lease on the lab switch). */
  readonly address: string;
}

/**
 * One host through a boot test: its disk made from its image, its boots, its checks and timings.
 * A failure is recorded as a failed check naming the serial log; only bad input (UserError) throws.
 */
export class HostTrial {
  readonly checks: CheckResult[] = [];
  readonly logs: string[] = [];
  boots: readonly BootRecord[] = [];
  manifest: Manifest | undefined;
  disk: RestoredDisk | undefined;
  vm: RunningVm<Booted> | undefined;
  private readonly seconds = { disk: 0, boot: 0, checks: 0 };
  private readonly started = Date.now();

  private constructor(
    readonly host: string,
    readonly imageDir: string,
    readonly work: string,
  ) {}

  /** Its disk and boot files live in a temporary directory: the images directory is only read. */
  static async create(host: string, fromDir: string): Promise<HostTrial> {
    const work = await mkdtemp(path.join(os.tmpdir(), `pi-lab-boot-test-${host}-`));
    return new HostTrial(host, path.join(fromDir, host), work);
  }

  get failed(): boolean {
    return this.checks.some((check) => !check.ok);
  }

  /**
   * The disk, restored from the image directory into a sparse file (the directory is only read),
   * or a sparse copy of `existing`, a raw disk something else wrote (never written to itself).
   */
  async makeDisk(existing?: string): Promise<RestoredDisk> {
    this.manifest = await readManifest(this.imageDir);
    if (!this.manifest) {
      throw new UserError(`${this.imageDir} holds no baked image (no pi-lab-manifest.json).`, [
        `Bake it first: npm run bake -- ${this.host}`,
      ]);
    }
    const started = Date.now();
    const diskFile = path.join(this.work, `${this.host}.img`);
    this.disk = existing
      ? await copyRawDisk(existing, diskFile)
      : await restoreDiskFile(this.imageDir, diskFile);
    this.seconds.disk = (Date.now() - started) / 1000;
    return this.disk;
  }

  /** What the first boot is expected to run, from the command line the disk starts with. */
  async expectation(): Promise<HostExpectation> {
    const disk = this.requireDisk();
    const cmdline = (await readFatFile(`${disk.path}@@${disk.bootOffset}`, 'cmdline.txt')).toString('utf8');
    return {
      host: this.host,
      version: this.manifest?.version ?? '?',
      firstBoot: /(?:^|\s)ds=nocloud/.test(cmdline) ? 'cloud-init' : 'firstrun',
    };
  }

  async boot(
    spec: Omit<VmSpec, 'host' | 'disk' | 'bootOffset' | 'workDir'>,
    probe: (signal: AbortSignal) => Promise<Booted>,
  ): Promise<Booted> {
    const disk = this.requireDisk();
    const started = Date.now();
    this.vm = await bootUntilUp(
      { ...spec, host: this.host, disk: disk.path, bootOffset: disk.bootOffset, workDir: this.work },
      probe,
    );
    this.boots = this.vm.boots;
    this.logs.push(...this.boots.map((boot) => boot.serialLog));
    this.seconds.boot = (Date.now() - started) / 1000;
    return this.vm.ready;
  }

  async check(run: () => Promise<readonly CheckResult[]>): Promise<void> {
    const started = Date.now();
    this.checks.push(...(await run()));
    this.seconds.checks += (Date.now() - started) / 1000;
  }

  /** Records what stopped this host; bad input is not a host failure and is thrown on. */
  recordFailure(error: unknown, lastSshRefusal?: string): void {
    if (error instanceof UserError) throw error;
    if (error instanceof BootCheckFailure) {
      if (error.log && !this.logs.includes(error.log)) this.logs.push(error.log);
      const ssh = lastSshRefusal ? `; the last SSH attempt said: ${lastSshRefusal}` : '';
      this.checks.push({ name: error.check, ok: false, detail: `${error.detail}${ssh}` });
    } else {
      this.checks.push({ name: 'boot test runs', ok: false, detail: describeError(error) });
    }
  }

  async stop(): Promise<void> {
    await this.vm?.ready.session.close();
    await this.vm?.stop();
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.work, { recursive: true, force: true });
  }

  result(): HostBootResult {
    const ok = this.checks.length > 0 && !this.failed;
    const log = this.logs.at(-1) ?? 'none';
    return {
      host: this.host,
      ok,
      version: this.manifest?.version,
      checks: this.checks,
      boots: this.boots,
      seconds: { ...this.seconds, total: (Date.now() - this.started) / 1000 },
      logs: this.logs,
      ...(ok
        ? {}
        : {
            error: this.checks
              .filter((check) => !check.ok)
              .map((check) => `${this.host}: ${check.name}: ${check.detail} (serial log: ${log})`)
              .join('\n'),
          }),
    };
  }

  private requireDisk(): RestoredDisk {
    if (!this.disk) throw new Error(`${this.host}: no disk made yet`);
    return this.disk;
  }
}

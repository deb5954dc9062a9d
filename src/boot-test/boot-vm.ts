import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { spawnStreaming, type StreamingProcess } from '../exec/run-command.ts';
import { readFatFile } from '../tools/mtools.ts';
import { kernelKind, readBootConfig } from './boot-config.ts';
import { qemuCommand, vmCommandLine, type Nic } from './qemu-command.ts';

export interface VmSpec {
  readonly host: string;
  readonly disk: string;
  readonly bootOffset: number;
  readonly nics: readonly Nic[];
  readonly accel: 'kvm' | 'tcg';
  readonly workDir: string;
  readonly logDir: string;
  /** How long one boot may take to reboot or come up. */
  readonly bootTimeoutSeconds: number;
}

export interface BootRecord {
  readonly boot: number;
  readonly cmdline: string;
  readonly serialLog: string;
  readonly seconds: number;
  /** 'rebooted': the guest rebooted (QEMU ended); 'up': the readiness probe succeeded. */
  readonly outcome: 'rebooted' | 'up';
}

export interface RunningVm<T> {
  readonly ready: T;
  readonly boots: readonly BootRecord[];
  /** Resolves when QEMU has ended. */
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

/** Imager's first boot reboots once; a first-boot hook that never removes itself would loop. */
export const MAX_BOOTS = 3;

/** A failed boot check: names the host, the check and the serial log to read. */
export class BootCheckFailure extends Error {
  override readonly name = 'BootCheckFailure';
  constructor(
    readonly host: string,
    readonly check: string,
    readonly detail: string,
    readonly log: string | undefined,
  ) {
    super(`${host}: ${check}: ${detail}${log ? ` (serial log: ${log})` : ''}`);
  }
}

/**
 * Boots the disk the way the Pi firmware does: before every boot, config.txt and cmdline.txt are
 * read again from its FAT partition, and the kernel and initramfs it names are loaded from there.
 * Boots again when the guest reboots, until `probe` says the machine is up (at most MAX_BOOTS).
 */
export async function bootUntilUp<T>(
  spec: VmSpec,
  probe: (signal: AbortSignal) => Promise<T>,
): Promise<RunningVm<T>> {
  const boots: BootRecord[] = [];
  for (let boot = 1; boot <= MAX_BOOTS; boot++) {
    const started = Date.now();
    const { cmdline, kernel, initrd } = await readBootFiles(spec, boot);
    const serialLog = path.join(spec.logDir, `${spec.host}-boot-${boot}.log`);
    const qemu = spawnStreaming(
      qemuCommand({
        disk: spec.disk,
        kernel,
        initrd,
        append: vmCommandLine(cmdline),
        serialLog,
        nics: spec.nics,
        accel: spec.accel,
        memoryMiB: 1024,
      }),
      { stdin: 'ignore' },
    );
    qemu.stdout.resume();
    const seconds = (): number => (Date.now() - started) / 1000;
    const outcome = await raceBoot(qemu, probe, serialLog, spec.bootTimeoutSeconds);
    if (outcome.kind === 'up') {
      boots.push({ boot, cmdline, serialLog, seconds: seconds(), outcome: 'up' });
      return { ready: outcome.value, boots, stopped: ended(qemu), stop: () => stopQemu(qemu) };
    }
    if (outcome.kind === 'timeout') {
      await stopQemu(qemu);
      throw new BootCheckFailure(
        spec.host,
        `boot ${boot} comes up`,
        `neither rebooted nor answered within ${spec.bootTimeoutSeconds} s`,
        serialLog,
      );
    }
    if (outcome.kind === 'stuck') {
      await stopQemu(qemu);
      throw new BootCheckFailure(spec.host, outcome.check, outcome.detail, serialLog);
    }
    if (outcome.kind === 'failed') {
      throw new BootCheckFailure(spec.host, `boot ${boot} starts`, outcome.message, serialLog);
    }
    boots.push({ boot, cmdline, serialLog, seconds: seconds(), outcome: 'rebooted' });
  }
  const last = boots.at(-1);
  throw new BootCheckFailure(
    spec.host,
    'first boot settles',
    `rebooted ${MAX_BOOTS} times without coming up; cmdline.txt was still: ${last?.cmdline ?? '?'}`,
    last?.serialLog,
  );
}

type BootOutcome<T> =
  | { readonly kind: 'up'; readonly value: T }
  | { readonly kind: 'rebooted' }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'stuck'; readonly check: string; readonly detail: string };

async function raceBoot<T>(
  qemu: StreamingProcess,
  probe: (signal: AbortSignal) => Promise<T>,
  serialLog: string,
  timeoutSeconds: number,
): Promise<BootOutcome<T>> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race<BootOutcome<T>>([
      qemu.done.then(
        () => ({ kind: 'rebooted' }),
        (error: unknown) => ({ kind: 'failed', message: (error as Error).message }),
      ),
      probe(abort.signal).then((value) => ({ kind: 'up', value })),
      watchSerialConsole(serialLog, abort.signal),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutSeconds * 1000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** systemd reports a unit that failed to start on the console even with `quiet`. */
const SSH_FAILED = /\[FAILED\] Failed to start (ssh\.service|.*OpenBSD Secure Shell).*$/m;
/** The serial getty's prompt: the boot is over. */
const LOGIN_PROMPT = /^\S+ login: /m;
const FAILED_UNIT = /\[FAILED\] Failed to start .*$/gm;
/** After the login prompt, this long for SSH to let us in. */
const SSH_GRACE_MS = 180_000;
const WATCH_INTERVAL_MS = 2000;

/**
 * Ends a boot early when the console shows SSH will never answer: sshd failed to start, or the
 * machine has been at its login prompt for minutes without letting us in. Never resolves otherwise.
 */
async function watchSerialConsole(
  serialLog: string,
  signal: AbortSignal,
): Promise<{ kind: 'stuck'; check: string; detail: string }> {
  let promptSeenAt: number | undefined;
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
    const text = await readFile(serialLog, 'latin1').catch(() => '');
    const sshFailed = SSH_FAILED.exec(text);
    if (sshFailed) return { kind: 'stuck', check: 'sshd starts', detail: sshFailed[0].trim() };
    if (promptSeenAt === undefined && LOGIN_PROMPT.test(text)) promptSeenAt = Date.now();
    if (promptSeenAt !== undefined && Date.now() - promptSeenAt > SSH_GRACE_MS) {
      const failed = (text.match(FAILED_UNIT) ?? []).map((line) => line.trim());
      return {
        kind: 'stuck',
        check: 'SSH answers once the system is up',
        detail: `at the login prompt for ${SSH_GRACE_MS / 1000} s without letting us in${failed.length > 0 ? `; the console shows: ${failed.join('; ')}` : ''}`,
      };
    }
  }
  return new Promise(() => undefined);
}

function ended(qemu: StreamingProcess): Promise<void> {
  return qemu.done.then(
    () => undefined,
    () => undefined,
  );
}

async function stopQemu(qemu: StreamingProcess): Promise<void> {
  qemu.kill();
  await ended(qemu);
}

/** The command line, kernel and initramfs the disk's own boot partition names, as files in spec.workDir. */
export async function readBootFiles(
  spec: Pick<VmSpec, 'host' | 'disk' | 'bootOffset' | 'workDir'>,
  boot: number,
): Promise<{ cmdline: string; kernel: string; initrd: string | undefined }> {
  const fat = `${spec.disk}@@${spec.bootOffset}`;
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFatFile(fat, name);
    } catch {
      throw new BootCheckFailure(
        spec.host,
        `boot ${boot}: read ${name}`,
        'not on the boot partition',
        undefined,
      );
    }
  };
  const cmdline = (await read('cmdline.txt')).toString('utf8').trim();
  const config = readBootConfig((await read('config.txt')).toString('utf8'));
  const kernelBytes = await read(config.kernel);
  const kind = kernelKind(kernelBytes);
  if (kind !== 'x86_64') {
    throw new UserError(
      `${spec.host}: the kernel its config.txt names (${config.kernel}) is ${kind === 'arm64' ? 'an arm64 Raspberry Pi kernel' : 'not a kernel this machine can boot'}; QEMU's generic machine cannot boot it.`,
      [
        'boot-test boots images whose boot partition carries an amd64 kernel, like the sample clean image (npm run sample).',
        'Booting a real Raspberry Pi OS image with a generic arm64 kernel is not supported yet (README: "Boot-testing your own image").',
      ],
    );
  }
  const kernel = path.join(spec.workDir, `${spec.host}-kernel`);
  await writeFile(kernel, kernelBytes);
  let initrd: string | undefined;
  if (config.initramfs) {
    initrd = path.join(spec.workDir, `${spec.host}-initrd`);
    await writeFile(initrd, await read(config.initramfs));
  }
  return { cmdline, kernel, initrd };
}

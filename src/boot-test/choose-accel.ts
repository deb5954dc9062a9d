import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ToolError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { spawnStreaming } from '../exec/run-command.ts';

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
  readonly accel: Accel;
  /** Why software emulation was chosen although /dev/kvm exists. */
  readonly kvmUnusable?: string;
}

export interface ProbeResult {
  readonly ok: boolean;
  readonly why?: string;
}

const PROBE_SECONDS = 10;
const FIRMWARE_BANNER = 'SeaBIOS';

/**
 * KVM when /dev/kvm is there and really runs guest code; software emulation otherwise. Some hosts
 * (nested hypervisors) expose a /dev/kvm on which QEMU aborts (`failed to set MSR`), so the device
 * alone proves nothing. PI_LAB_BOOT_ACCEL=tcg forces emulation where KVM starts but hangs.
 */
export async function chooseAccel(env: NodeJS.ProcessEnv = process.env): Promise<AccelChoice> {
  if (env.PI_LAB_BOOT_ACCEL === 'tcg') return { accel: 'tcg' };
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg' };
  }
  const probe = await probeAccel('kvm');
  return probe.ok ? { accel: 'kvm' } : { accel: 'tcg', kvmUnusable: probe.why ?? 'unknown' };
}

/** The CPU model each accelerator runs with (also what the probe starts). */
export function cpuArgs(accel: Accel): string[] {
  return accel === 'kvm' ? ['-cpu', 'host'] : [];
}

/**
 * Starts QEMU with no disk and waits for its firmware (SeaBIOS) to print on the debug port: proof
 * that the accelerator executes guest code, within a few seconds. `extraArgs` lets a test break it.
 */
export async function probeAccel(accel: Accel, extraArgs: readonly string[] = []): Promise<ProbeResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pi-lab-accel-'));
  const debugLog = path.join(dir, 'firmware.log');
  const qemu = spawnStreaming(
    command('qemu-system-x86_64', [
      '-machine',
      `q35,accel=${accel}`,
      ...cpuArgs(accel),
      '-m',
      '64',
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      '-debugcon',
      `file:${debugLog}`,
      '-global',
      'isa-debugcon.iobase=0x402',
      ...extraArgs,
    ]),
    { stdin: 'ignore' },
  );
  qemu.stdout.resume();
  // Its error output, once it has ended (killed by us or on its own).
  const ended = qemu.done.then(
    (stderr) => stderr,
    (error: unknown) => (error instanceof ToolError ? error.outputTail : String(error)),
  );
  const state = { exited: false };
  void ended.then(() => (state.exited = true));
  try {
    const deadline = Date.now() + PROBE_SECONDS * 1000;
    while (Date.now() < deadline && !state.exited) {
      if ((await readFile(debugLog, 'utf8').catch(() => '')).includes(FIRMWARE_BANNER)) return { ok: true };
      await sleep(50);
    }
    const diedOnItsOwn = state.exited;
    qemu.kill();
    const stderr = await ended;
    if ((await readFile(debugLog, 'utf8').catch(() => '')).includes(FIRMWARE_BANNER)) return { ok: true };
    const said = stderr.split('\n').find((line) => /error|fail|abort/i.test(line)) ?? stderr.split('\n')[0];
    return {
      ok: false,
      why: diedOnItsOwn && said ? said.trim() : `its firmware printed nothing within ${PROBE_SECONDS} s`,
    };
  } finally {
    qemu.kill();
    await ended;
    await rm(dir, { recursive: true, force: true });
  }
}

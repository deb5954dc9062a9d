/**
 * What the Pi 5 firmware would load, read from config.txt: the kernel (`kernel=`, default
 * kernel_2712.img) and the initramfs (`initramfs FILE followkernel`, or the kernel's own with
 * `auto_initramfs=1`). Only lines that apply to a Pi 5 count: before any section, `[all]`, `[pi5]`.
 */
export interface BootConfig {
  readonly kernel: string;
  readonly initramfs: string | undefined;
}

const PI5_KERNEL = 'kernel_2712.img';
const PI5_SECTIONS = new Set(['all', 'pi5']);

export function readBootConfig(configTxt: string): BootConfig {
  let applies = true;
  let kernel: string | undefined;
  let initramfs: string | undefined;
  let autoInitramfs = false;
  for (const raw of configTxt.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      applies = PI5_SECTIONS.has((section[1] ?? '').toLowerCase());
      continue;
    }
    if (!applies) continue;
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (setting?.[1] === 'kernel') kernel = setting[2]?.trim();
    if (setting?.[1] === 'auto_initramfs') autoInitramfs = setting[2]?.trim() === '1';
    const ramfs = /^initramfs\s+(\S+)/.exec(line);
    if (ramfs) initramfs = ramfs[1];
  }
  const chosen = kernel ?? PI5_KERNEL;
  const automatic = autoInitramfs ? chosen.replace(/^kernel/, 'initramfs').replace(/\.img$/, '') : undefined;
  return { kernel: chosen, initramfs: initramfs ?? automatic };
}

export type KernelKind = 'x86_64' | 'arm64' | 'unknown';

/** x86 bzImage: "HdrS" at 0x202; arm64 Image: "ARM\x64" at 0x38. */
export function kernelKind(head: Buffer): KernelKind {
  if (head.length >= 0x206 && head.toString('latin1', 0x202, 0x206) === 'HdrS') return 'x86_64';
  if (head.length >= 0x3c && head.toString('latin1', 0x38, 0x3c) === 'ARM\x64') return 'arm64';
  return 'unknown';
}

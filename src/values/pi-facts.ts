/*
 * What a Pi says about itself, decoded: `vcgencmd get_throttled` (these power supplies matter) and
 * the bootloader's boot mode in the device tree.
 */

const THROTTLED_BITS: readonly (readonly [number, string])[] = [
  [0, 'under-voltage'],
  [1, 'ARM frequency capped'],
  [2, 'throttled'],
  [3, 'soft temperature limit'],
];
const SINCE_BOOT_OFFSET = 16;

export interface Throttled {
  /** As vcgencmd printed it, e.g. 0x50005. */
  readonly raw: string;
  readonly now: readonly string[];
  readonly sinceBoot: readonly string[];
}

/** `throttled=0x50000` → under-voltage and throttling have occurred since boot, nothing now. */
export function decodeThrottled(output: string): Throttled | undefined {
  const raw = /throttled=(0x[0-9a-f]+)/i.exec(output)?.[1];
  if (!raw) return undefined;
  const value = Number.parseInt(raw, 16);
  const set = (offset: number) =>
    THROTTLED_BITS.filter(([bit]) => (value >> (bit + offset)) & 1).map(([, name]) => name);
  return { raw, now: set(0), sinceBoot: set(SINCE_BOOT_OFFSET) };
}

const BOOT_MODES: Readonly<Record<number, string>> = {
  1: 'SD card',
  2: 'network',
  3: 'rpiboot',
  4: 'USB disk',
  5: 'USB disk (BCM)',
  6: 'NVMe',
  7: 'HTTP',
};

/** The big-endian u32 in /proc/device-tree/chosen/bootloader/boot-mode, printed by `od -An -tu1`. */
export function decodeBootMode(bytes: string): string | undefined {
  const values = bytes.trim().split(/\s+/).filter(Boolean).map(Number);
  if (values.length !== 4 || values.some((v) => !Number.isInteger(v))) return undefined;
  const mode = values.reduce((sum, byte) => sum * 256 + byte, 0);
  return BOOT_MODES[mode] ?? `mode ${mode}`;
}

/** `vcgencmd bootloader_version`'s first line, `2025/01/22 15:31:47` → 2025-01-22. */
export function bootloaderDate(output: string): string | undefined {
  const match = /(\d{4})\/(\d{2})\/(\d{2})/.exec(output) ?? /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(output);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : undefined;
}

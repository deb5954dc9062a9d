import { command } from '../exec/command.ts';
import { IMAGE_MARKER_PATH, type ImageMarker, markerFromBase64 } from '../image/marker.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import { bootloaderDate, decodeBootMode, decodeThrottled, type Throttled } from '../values/pi-facts.ts';
import { BOOT_MOUNT } from './drift.ts';

export interface HostFacts {
  readonly hostname: string;
  readonly uptimeSeconds?: number;
  readonly bootloader?: string;
  readonly bootMode?: string;
  readonly throttled?: Throttled;
  readonly marker?: ImageMarker;
}

/** One round trip, read-only, no root needed: each line `key value`. */
const FACTS_SCRIPT = [
  'echo "hostname $(hostname)"',
  `echo "uptime $(cut -d' ' -f1 /proc/uptime)"`,
  'echo "bootloader $(vcgencmd bootloader_version 2>/dev/null | head -n 1)"',
  'echo "throttled $(vcgencmd get_throttled 2>/dev/null)"',
  'echo "bootmode $(od -An -tu1 /proc/device-tree/chosen/bootloader/boot-mode 2>/dev/null)"',
  `echo "marker $(base64 -w0 ${BOOT_MOUNT}${IMAGE_MARKER_PATH} 2>/dev/null)"`,
].join('\n');

export async function readHostFacts(session: SshSession, timeoutSeconds: number): Promise<HostFacts> {
  const result = await session.run(command('sh', ['-c', FACTS_SCRIPT]), { timeoutSeconds });
  return parseHostFacts(result.stdout);
}

export function parseHostFacts(output: string): HostFacts {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) values.set(line.slice(0, space), line.slice(space + 1).trim());
  }
  const uptime = Number(values.get('uptime'));
  const bootloader = bootloaderDate(values.get('bootloader') ?? '');
  const bootMode = decodeBootMode(values.get('bootmode') ?? '');
  const throttled = decodeThrottled(values.get('throttled') ?? '');
  const marker = markerFromBase64(values.get('marker') ?? '');
  return {
    hostname: values.get('hostname') ?? '',
    ...(Number.isFinite(uptime) && uptime > 0 ? { uptimeSeconds: Math.round(uptime) } : {}),
    ...(bootloader ? { bootloader } : {}),
    ...(bootMode ? { bootMode } : {}),
    ...(throttled ? { throttled } : {}),
    ...(marker ? { marker } : {}),
  };
}

import { invalidPlugInput } from './plug-errors.ts';
import type { PlugDriverName } from './plug-driver.ts';

/** A PlugConnection with its defaults filled in and checked (`openPlug`). */
export interface ResolvedPlug {
  readonly name: string;
  readonly driver: PlugDriverName;
  readonly host: string;
  readonly port: number;
  readonly credentials?: { readonly user: string; readonly password: string };
  readonly timeoutSeconds: number;
}

/** An hour: longer than any power cut a Pi needs, short enough that minutes given as seconds are caught. */
export const MAX_OFF_SECONDS = 3600;

/** The same bounds for every driver, checked before anything is sent. */
export function checkOffSeconds(plug: ResolvedPlug, offSeconds: number): void {
  if (!Number.isInteger(offSeconds) || offSeconds < 1 || offSeconds > MAX_OFF_SECONDS)
    throw invalidPlugInput(
      plug,
      `the off time must be whole seconds from 1 to ${MAX_OFF_SECONDS}, not ${offSeconds}`,
    );
}

/** `192.168.87.5:9999` (hosts are names or IPv4 addresses: `openPlug` refuses the rest). */
export function plugAddress(plug: Pick<ResolvedPlug, 'host' | 'port'>): string {
  return `${plug.host}:${plug.port}`;
}

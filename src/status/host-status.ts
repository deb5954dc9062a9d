import type { Throttled } from '../values/pi-facts.ts';
import type { Drift } from './drift.ts';

/** One host as `npm run status` reports it. */
export interface HostStatus {
  readonly host: string;
  /** up: logged in; no-ssh: the port is open but SSH does not work (wedged); down: nothing answers. */
  readonly reach: 'up' | 'no-ssh' | 'down';
  /** Where it was found (or last tried). */
  readonly address: string;
  /** Why it is not up. */
  readonly why?: string;
  /** itself: its USB system; imager: its SD imager; other: it answered under another name. */
  readonly running?: 'itself' | 'imager' | 'other';
  readonly hostname?: string;
  readonly version: {
    /** What its image marker says. */
    readonly running?: string;
    /** Current on the share; undefined when the share has none or could not be read. */
    readonly share?: string;
    /** Baked here, in the output directory. */
    readonly baked?: string;
  };
  readonly uptimeSeconds?: number;
  readonly bootloader?: string;
  readonly bootMode?: string;
  readonly throttled?: Throttled;
  /** Undefined when not checked (not up, or running in its imager); `unknown` says why it could not be. */
  readonly drift?: Drift | { readonly unknown: string };
  readonly seconds: number;
}

export interface StatusReport {
  readonly hosts: readonly HostStatus[];
  /** What the share said, or why it could not be read. */
  readonly share: string;
  /** Leases of MACs that no host of the lab has, from the router's dnsmasq. */
  readonly unknownLeases?: readonly { readonly mac: string; readonly ip: string; readonly name: string }[];
}

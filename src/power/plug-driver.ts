import { PLUG_DRIVER_NAMES, type PlugDriverName } from '../values/plug-driver-name.ts';
import { isHostName } from '../values/ssh-destination.ts';
import { openKasaPlug } from './kasa-driver.ts';
import { invalidPlugInput } from './plug-errors.ts';
import type { ResolvedPlug } from './resolved-plug.ts';
import { openShellyPlug } from './shelly-driver.ts';
import { openTasmotaPlug } from './tasmota-driver.ts';

export { PLUG_DRIVER_NAMES, type PlugDriverName } from '../values/plug-driver-name.ts';

export interface PlugAddress {
  readonly host: string;
  readonly port?: number;
}

export interface PlugCredentials {
  /** Shelly Gen2+ and Tasmota both know only `admin`, the default. */
  readonly user?: string;
  readonly password: string;
}

export interface PlugConnection {
  /** The plug's name in the lab file, used in every message. */
  readonly name: string;
  readonly driver: PlugDriverName;
  readonly address: PlugAddress;
  readonly credentials?: PlugCredentials;
  /** Per request, default 5. */
  readonly timeoutSeconds?: number;
}

export interface PlugDriver {
  /** On or off now. */
  isOn(): Promise<boolean>;
  switchTo(on: boolean): Promise<void>;
  /**
   * Off now and back on after `offSeconds` by the plug's own timer (so it completes even if we lose
   * the connection); returns true when the device has such a timer, false when it does not and
   * nothing was done.
   */
  cycle(offSeconds: number): Promise<boolean>;
}

export const DEFAULT_PLUG_TIMEOUT_SECONDS = 5;

export const DEFAULT_PLUG_PORTS: Readonly<Record<PlugDriverName, number>> = {
  kasa: 9999,
  shelly: 80,
  tasmota: 80,
};

/**
 * The driver for one plug. Opening sends nothing: every call is one short exchange (a new TCP
 * connection or HTTP request) bounded by the timeout, so there is nothing to close afterwards.
 * Throws a PlugError when the connection itself is invalid (host, port, timeout, credentials).
 */
export function openPlug(connection: PlugConnection): PlugDriver {
  const plug = resolvePlug(connection);
  switch (plug.driver) {
    case 'kasa':
      return openKasaPlug(plug);
    case 'shelly':
      return openShellyPlug(plug);
    case 'tasmota':
      return openTasmotaPlug(plug);
  }
}

function resolvePlug(connection: PlugConnection): ResolvedPlug {
  const { name, driver, address, credentials } = connection;
  const port = address.port ?? DEFAULT_PLUG_PORTS[driver];
  const timeoutSeconds = connection.timeoutSeconds ?? DEFAULT_PLUG_TIMEOUT_SECONDS;
  const plug: ResolvedPlug = {
    name,
    driver,
    host: address.host,
    port,
    timeoutSeconds,
    ...(credentials
      ? { credentials: { user: credentials.user ?? 'admin', password: credentials.password } }
      : {}),
  };
  const problems = [
    ...(PLUG_DRIVER_NAMES.includes(driver) ? [] : [`unknown driver "${driver}" (kasa, shelly or tasmota)`]),
    ...(isHostName(address.host) ? [] : [`"${address.host}" is not a host name or IPv4 address`]),
    ...(Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [`port ${port} is not 1..65535`]),
    ...(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0
      ? []
      : [`timeoutSeconds ${timeoutSeconds} is not a positive number`]),
    ...(driver === 'kasa' && credentials
      ? ['the Kasa local protocol has no password: remove the credentials']
      : []),
  ];
  if (problems.length > 0) throw invalidPlugInput(plug, problems.join('; '));
  return plug;
}

import type { Manifest } from '../image/manifest.ts';
import type { DeploySettings } from './deploy-settings.ts';
import type { DeployTarget } from './deploy-target.ts';
import type { ImageLocation } from './image-location.ts';
import type { OfferedHostKey, RemoteHost, RemotePort } from './remote-port.ts';

/** What one host's steps share: where it is, what was learnt so far, and the way out (the port). */
export interface DeployContext {
  readonly target: DeployTarget;
  readonly settings: DeploySettings;
  readonly port: RemotePort;
  readonly image: ImageLocation;
  /** A detail for the current step's progress line. */
  note(detail: string): void;
  progress(percent: number): void;
  /** Sessions the runner closes when the host is done, whatever happened. */
  keep(session: RemoteHost): RemoteHost;
  /** The host running as itself (found by locate). */
  node?: RemoteHost;
  /** The host running its SD imager. */
  imager?: RemoteHost;
  manifest?: Manifest;
  /** The restore finished in an earlier run (its connection was cut after it). */
  restoredAlready?: boolean;
  logFile?: string;
  /** The host key of the freshly imaged host, recorded once it proved to be itself. */
  hostKey?: OfferedHostKey;
}

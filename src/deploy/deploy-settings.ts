import type { ReachSettings } from './remote-port.ts';

/** Seconds each waiting step may take before it fails with a message naming the step. */
export interface DeployTimeouts {
  /** One attempt at reaching a host as it is now. */
  readonly locate: number;
  /** A reboot until the other identity answers (node → imager, imager → node). */
  readonly boot: number;
  readonly preflight: number;
  readonly restore: number;
  readonly verify: number;
}

export const DEFAULT_DEPLOY_TIMEOUTS: DeployTimeouts = {
  locate: 20,
  boot: 600,
  preflight: 1800,
  restore: 3600,
  verify: 300,
};

export interface DeploySettings {
  readonly ssh: ReachSettings;
  readonly timeouts: DeployTimeouts;
  /** The image's first-boot placeholder hostname (changeme): must not survive on the disk. */
  readonly placeholder: string;
  /** Where the restores' full logs are kept. */
  readonly logDir: string;
  /** Restore this published version instead of the current one. */
  readonly version?: string;
}

export const DEPLOY_STEPS = [
  'locate',
  'to-imager',
  'preflight',
  'restore',
  'verify',
  'reboot',
  'came-back',
] as const;
export type DeployStep = (typeof DEPLOY_STEPS)[number];

export const STEP_TITLES: Readonly<Record<DeployStep, string>> = {
  locate: 'finding the host',
  'to-imager': 'sending it to its SD imager',
  preflight: 'checking the imager, the disk and the image',
  restore: 'restoring the image',
  verify: 'verifying the written disk',
  reboot: 'rebooting into the new image',
  'came-back': 'waiting for it to come back',
};

export interface DeployOutcome {
  readonly host: string;
  readonly status: 'deployed' | 'failed' | 'planned';
  readonly version?: string;
  /** The step that failed. */
  readonly step?: DeployStep;
  readonly error?: string;
  readonly seconds: number;
  /** Seconds spent in each step that was entered, in order. */
  readonly steps?: Readonly<Partial<Record<DeployStep, number>>>;
  /** The fingerprint of the host key its first boot made, now in known_hosts. */
  readonly hostKey?: string;
  /** Where the restore's full log was kept. */
  readonly logFile?: string;
  /** --dry-run: every remote command, in order. */
  readonly commands?: readonly string[];
}

export interface DeployReporter {
  step(host: string, step: DeployStep, detail?: string): void;
  /** Restore progress, 0-100. */
  progress(host: string, percent: number): void;
  finished(outcome: DeployOutcome): void;
}

export const SILENT_DEPLOY_REPORTER: DeployReporter = {
  step: () => undefined,
  progress: () => undefined,
  finished: () => undefined,
};

/** A step that failed, with what to do: the outcome names the step. */
export class StepError extends Error {
  override readonly name = 'StepError';
  constructor(
    readonly step: DeployStep,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

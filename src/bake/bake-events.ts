export type HostStatus = 'baked' | 'unchanged' | 'failed' | 'planned';

export interface HostOutcome {
  readonly host: string;
  readonly status: HostStatus;
  readonly version?: string;
  readonly seconds: number;
  readonly partitions?: Readonly<Record<string, 'rebaked' | 'reused'>>;
  readonly changes?: readonly string[];
  readonly error?: string;
}

/** How the bake reports progress; the CLI renders it live in a terminal, as lines in CI, or not at all. */
export interface BakeReporter {
  stage(host: string, stage: string): void;
  bytes(host: string, done: number): void;
  finished(outcome: HostOutcome): void;
}

export const SILENT_REPORTER: BakeReporter = {
  stage: () => undefined,
  bytes: () => undefined,
  finished: () => undefined,
};

export type PublishStatus = 'published' | 'switched' | 'unchanged' | 'failed' | 'planned';

export interface PublishOutcome {
  readonly host: string;
  readonly status: PublishStatus;
  readonly version: string;
  /** The version that was current before. */
  readonly previous?: string;
  /** Bytes of this host's files that were uploaded (shared files count for the first host only). */
  readonly bytesSent: number;
  readonly error?: string;
}

/** How publish reports progress; rendered live in a terminal, as lines in CI, or not at all. */
export interface PublishReporter {
  stage(text: string): void;
  /** Called often while a file goes up. */
  transfer(file: string, sentBytes: number, totalBytes: number, bytesPerSecond: number): void;
  transferred(file: string, bytes: number, seconds: number): void;
  finished(outcome: PublishOutcome): void;
}

export const SILENT_PUBLISH_REPORTER: PublishReporter = {
  stage: () => undefined,
  transfer: () => undefined,
  transferred: () => undefined,
  finished: () => undefined,
};

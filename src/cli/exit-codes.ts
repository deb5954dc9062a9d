import { describeError, InterruptedError, ToolError, UserError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

/** The single place that turns an error into a message and an exit status. */
export function reportFatal(error: unknown): number {
  if (error instanceof InterruptedError) {
    process.stderr.write(`\nInterrupted: nothing was left half-written; earlier images are intact.\n`);
    return EXIT_INTERRUPTED;
  }
  process.stderr.write(`error: ${describeError(error)}\n`);
  if (error instanceof UserError) return EXIT_USAGE;
  if (error instanceof ToolError) return EXIT_FAILED;
  if (error instanceof Error && process.env.DEBUG) process.stderr.write(`${error.stack ?? ''}\n`);
  return EXIT_FAILED;
}

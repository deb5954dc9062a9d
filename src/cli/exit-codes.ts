import { describeError, InterruptedError, ToolError, UserError } from '../errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

const SHOW_CURSOR = '\u001B[?25h';

/** The single place that turns an error into a message and an exit status. */
export function reportFatal(error: unknown): number {
  if (error instanceof InterruptedError) {
    // A live view hides the cursor while it redraws; a terminal must never be left without one.
    if (process.stderr.isTTY) process.stderr.write(SHOW_CURSOR);
    process.stderr.write(
      `\nInterrupted (${error.signal}): ${error.leftAsItWas ?? 'nothing was left half-written.'}\n`,
    );
    return EXIT_INTERRUPTED;
  }
  process.stderr.write(`error: ${describeError(error)}\n`);
  if (error instanceof UserError) return EXIT_USAGE;
  if (error instanceof ToolError) return EXIT_FAILED;
  if (error instanceof Error && process.env.DEBUG) process.stderr.write(`${error.stack ?? ''}\n`);
  return EXIT_FAILED;
}

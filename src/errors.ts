/** A problem the user can fix: the message names the culprit and the remedy. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

/** An external tool failed: carries the rendered command, its status and the tail of its output. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  constructor(
    message: string,
    readonly command: string,
    readonly exitStatus: string,
    readonly outputTail: string,
  ) {
    super(message);
  }
}

/** Raised when the user interrupts (SIGINT/SIGTERM) so every `finally` can release what it holds. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(
    readonly signal: string,
    /** What the command left as it was, for the user; set by the command that was interrupted. */
    readonly leftAsItWas?: string,
  ) {
    super(`interrupted by ${signal}`);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof UserError)
    return [error.message, ...error.details.map((d) => `  - ${indent(d, '    ').trimStart()}`)].join('\n');
  if (error instanceof ToolError) {
    const tail = error.outputTail.trim();
    return `${error.message}\n  command: ${error.command}\n  status: ${error.exitStatus}${tail ? `\n  output:\n${indent(tail, '    ')}` : ''}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

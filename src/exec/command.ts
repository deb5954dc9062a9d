/** A command is data before it is a process: argv, never a shell string. */
export interface Command {
  readonly program: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export function command(
  program: string,
  args: readonly string[],
  options: Omit<Command, 'program' | 'args'> = {},
): Command {
  return { program, args, ...options };
}

const SAFE_WORD = /^[\w@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell. */
export function shellQuote(word: string): string {
  if (word !== '' && SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** One rendering for dry-run output, logs and errors alike. */
export function formatCommand(cmd: Command): string {
  const env = Object.entries(cmd.env ?? {}).map(([key, value]) => `${key}=${shellQuote(value)}`);
  return [...env, shellQuote(cmd.program), ...cmd.args.map(shellQuote)].join(' ');
}

export function formatPipeline(commands: readonly Command[]): string {
  return commands.map(formatCommand).join(' | ');
}

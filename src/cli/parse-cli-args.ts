import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.ts';

export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** What parseCliArgs returns for these options: their values (and help), and the positionals. */
export type ParsedCliArgs<T extends CliOptions> = ReturnType<typeof parseCliArgs<T>>;

/** node:util parseArgs with positionals and -h/--help; a bad flag is a UserError carrying the usage. */
export function parseCliArgs<const T extends CliOptions>(argv: readonly string[], options: T, usage: string) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UserError((error as Error).message, [usage]);
  }
}

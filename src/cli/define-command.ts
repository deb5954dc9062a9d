import type { Lab } from '../lab/lab-types.ts';
import type { CliOptions, ParsedCliArgs } from './parse-cli-args.ts';

/** A command's finished result: printed as JSON with --json, as text otherwise; exit 1 unless ok. */
export interface CommandReport {
  readonly ok: boolean;
  readonly json: unknown;
  readonly printText: () => void;
}

export interface CommandArguments<O extends CliOptions> {
  readonly values: ParsedCliArgs<O>['values'];
  readonly positionals: readonly string[];
}

export interface CommandContext<O extends CliOptions> extends CommandArguments<O> {
  readonly name: string;
  readonly projectDir: string;
  /** The arguments as given, for a command that hands them on to another. */
  readonly argv: readonly string[];
  /** Runs work so that Ctrl-C stops it and tells the user the definition's leftAsItWas. */
  readonly interruptibly: <T>(work: () => Promise<T>) => Promise<T>;
}

interface CommonDefinition<O extends CliOptions> {
  readonly name: string;
  /** Printed for --help, and under every usage error. */
  readonly usage: string;
  /** For node:util parseArgs; every command also takes -h/--help. */
  readonly options: O;
  readonly leftAsItWas: string;
  /** Checks of the command line alone, made before the lab file is read. */
  readonly checkArguments?: (args: CommandArguments<O>) => void;
}

/** Takes --lab FILE too and runs with the lab read from it, or from the project's default lab file. */
interface LabCommandDefinition<O extends CliOptions> extends CommonDefinition<O> {
  readonly readsLab: true;
  readonly run: (context: CommandContext<O> & { readonly lab: Lab }) => Promise<number | CommandReport>;
}

interface PlainCommandDefinition<O extends CliOptions> extends CommonDefinition<O> {
  readonly readsLab: false;
  readonly run: (context: CommandContext<O>) => Promise<number | CommandReport>;
}

/** One command as data: what it takes and what it does; runCliCommand does the rest. */
export type CommandDefinition<O extends CliOptions> = LabCommandDefinition<O> | PlainCommandDefinition<O>;

export function defineCommand<const O extends CliOptions>(
  definition: CommandDefinition<O>,
): CommandDefinition<O> {
  return definition;
}

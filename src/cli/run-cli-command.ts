import path from 'node:path';
import { DEFAULT_LAB_FILE } from '../lab/default-lab-file.ts';
import { loadLab } from '../lab/load-lab.ts';
import type { CommandContext, CommandDefinition, CommandReport } from './define-command.ts';
import { EXIT_FAILED, EXIT_OK, reportFatal } from './exit-codes.ts';
import { runInterruptibly } from './interrupts.ts';
import { jsonOutput } from './json-output.ts';
import { type CliOptions, parseCliArgs } from './parse-cli-args.ts';

/** Added to the options of every command that reads the lab. */
export const LAB_OPTION = { lab: { type: 'string' } } as const;

/** The flags the runner itself reads, whichever command declared them. */
interface RunnerFlags {
  readonly help?: boolean;
  readonly lab?: string;
  readonly json?: boolean;
}

/**
 * Runs a command as every entry point does: parse (a bad flag is a usage error), --help, the
 * argument checks, the lab, the command, its result as text or JSON; every error ends in reportFatal.
 */
export async function runCliCommand<O extends CliOptions>(
  definition: CommandDefinition<O>,
  argv: readonly string[],
  projectDir: string,
): Promise<number> {
  try {
    const options = definition.readsLab ? { ...definition.options, ...LAB_OPTION } : definition.options;
    const parsed = parseCliArgs(argv, options, definition.usage);
    const flags = parsed.values as RunnerFlags;
    if (flags.help) {
      process.stdout.write(`${definition.usage}\n`);
      return EXIT_OK;
    }
    const args = { values: parsed.values, positionals: parsed.positionals };
    definition.checkArguments?.(args);
    const context: CommandContext<O> = {
      ...args,
      name: definition.name,
      projectDir,
      argv,
      interruptibly: (work) => runInterruptibly(work, definition.leftAsItWas),
    };
    const outcome = definition.readsLab
      ? await definition.run({
          ...context,
          lab: await loadLab(labFile(flags.lab, projectDir), { projectDir }),
        })
      : await definition.run(context);
    return typeof outcome === 'number' ? outcome : printReport(outcome, flags.json === true);
  } catch (error) {
    return reportFatal(error);
  }
}

/** --lab relative to the working directory; without it, the project's own lab file. */
function labFile(labOption: string | undefined, projectDir: string): string {
  return path.resolve(labOption ?? path.join(projectDir, DEFAULT_LAB_FILE));
}

function printReport(report: CommandReport, json: boolean): number {
  if (json) process.stdout.write(jsonOutput(report.json));
  else report.printText();
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

import path from 'node:path';
import { runBake } from '../bake/run-bake.ts';
import { loadLab } from '../lab/load-lab.ts';
import { jsonOutput } from './json-output.ts';
import { EXIT_FAILED, EXIT_OK, reportFatal } from './exit-codes.ts';
import { runInterruptibly } from './interrupts.ts';
import { parseCliArgs } from './parse-cli-args.ts';
import { lineReporter, liveReporter, summaryTable } from './progress-view.ts';
import { SILENT_REPORTER } from '../bake/bake-events.ts';

export const BAKE_USAGE = `Usage: npm run bake -- [HOST...] [--lab FILE] [--clean DIR] [--out DIR] [--dry-run] [--json]

Bakes a Clonezilla image per host (default: every host with a recipe) from the clean image.
  --lab FILE    lab file (default recipes/lab.yaml)
  --clean DIR   clean Clonezilla image directory (default: the lab's image.clean)
  --out DIR     output directory (default images/)
  --dry-run     show what would change per host; write nothing
  --json        print a machine-readable result on stdout`;

const BAKE_LEFT_AS_IT_WAS =
  'every host keeps the image it had (a host reported baked above was swapped in whole); no temporary files or lock are left. Run the bake again to finish.';

/** Images are reproducible: FAT and ext4 entries carry this time unless SOURCE_DATE_EPOCH says otherwise. */
const DEFAULT_PINNED_TIME = 1704067200;

export async function bakeCommand(argv: readonly string[], projectDir: string): Promise<number> {
  try {
    const { values, positionals } = parseBakeArgs(argv);
    if (values.help) {
      process.stdout.write(`${BAKE_USAGE}\n`);
      return EXIT_OK;
    }
    const lab = await loadLab(path.resolve(values.lab ?? path.join(projectDir, 'recipes/lab.yaml')), {
      projectDir,
    });
    const live = !values.json && process.stderr.isTTY ? liveReporter(process.stderr) : undefined;
    const reporter = values.json ? SILENT_REPORTER : (live ?? lineReporter(process.stderr));
    const result = await runInterruptibly(
      () =>
        runBake({
          lab,
          projectDir,
          hosts: positionals,
          cleanDir: path.resolve(values.clean ?? lab.image.clean),
          outDir: path.resolve(values.out ?? path.join(projectDir, 'images')),
          dryRun: values['dry-run'] ?? false,
          reporter,
          pinnedTime: Number(process.env.SOURCE_DATE_EPOCH ?? DEFAULT_PINNED_TIME),
        }),
      BAKE_LEFT_AS_IT_WAS,
    ).finally(() => live?.close());
    if (values.json) {
      process.stdout.write(
        jsonOutput({ ok: result.ok, dryRun: values['dry-run'] ?? false, hosts: result.outcomes }),
      );
    } else {
      process.stdout.write(`\n${summaryTable(result.outcomes)}\n`);
      for (const outcome of result.outcomes) {
        if (outcome.changes)
          process.stdout.write(
            `\n${outcome.host} (${outcome.version ?? ''}):\n${outcome.changes.map((l) => `  ${l}`).join('\n')}\n`,
          );
        if (outcome.error) process.stderr.write(`\n${outcome.host} failed:\n${outcome.error}\n`);
      }
    }
    return result.ok ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    return reportFatal(error);
  }
}

function parseBakeArgs(argv: readonly string[]) {
  return parseCliArgs(
    argv,
    {
      lab: { type: 'string' },
      clean: { type: 'string' },
      out: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    BAKE_USAGE,
  );
}

import path from 'node:path';
import { runBake } from '../bake/run-bake.ts';
import { defineCommand } from './define-command.ts';
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

export const bakeCommand = defineCommand({
  name: 'bake',
  usage: BAKE_USAGE,
  options: {
    clean: { type: 'string' },
    out: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  readsLab: true,
  leftAsItWas: BAKE_LEFT_AS_IT_WAS,
  run: async ({ values, positionals, lab, projectDir, interruptibly }) => {
    const live = !values.json && process.stderr.isTTY ? liveReporter(process.stderr) : undefined;
    const reporter = values.json ? SILENT_REPORTER : (live ?? lineReporter(process.stderr));
    const dryRun = values['dry-run'] ?? false;
    const result = await interruptibly(() =>
      runBake({
        lab,
        projectDir,
        hosts: positionals,
        cleanDir: path.resolve(values.clean ?? lab.image.clean),
        outDir: path.resolve(values.out ?? path.join(projectDir, 'images')),
        dryRun,
        reporter,
        pinnedTime: Number(process.env.SOURCE_DATE_EPOCH ?? DEFAULT_PINNED_TIME),
      }),
    ).finally(() => live?.close());
    return {
      ok: result.ok,
      json: { ok: result.ok, dryRun, hosts: result.outcomes, stages: result.stages },
      printText: () => {
        process.stdout.write(`\n${summaryTable(result.outcomes)}\n`);
        for (const outcome of result.outcomes) {
          if (outcome.changes)
            process.stdout.write(
              `\n${outcome.host} (${outcome.version ?? ''}):\n${outcome.changes.map((l) => `  ${l}`).join('\n')}\n`,
            );
          if (outcome.error) process.stderr.write(`\n${outcome.host} failed:\n${outcome.error}\n`);
        }
      },
    };
  },
});

#!/usr/bin/env -S npx tsx
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderReport, writeReport } from '../bench/report.ts';
import { runBench } from '../bench/run-bench.ts';
import { projectRoot } from '../src/cli/project-root.ts';

const USAGE = `Usage: npm run bench -- [--runs N] [--subset-nodes K]

Times the bake of the bench lab (router pi0 + nodes pi1..pi10) from the cached clean image in .bench/
(built on first use from real files of this machine: takes minutes). Every figure is the median of N runs
(default 3). Prints a table and writes .bench/results.json.
Exit status: 0 every target met, 1 a target missed, 2 the bench itself failed.`;

function parse(): { runs: number; subsetNodes: number } | undefined {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      'subset-nodes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const runs = Number(values.runs ?? 3);
  const subsetNodes = Number(values['subset-nodes'] ?? 5);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs ${values.runs ?? ''}: give a whole number >= 1`);
  if (!Number.isInteger(subsetNodes) || subsetNodes < 1 || subsetNodes > 9) {
    throw new Error(`--subset-nodes ${values['subset-nodes'] ?? ''}: give a whole number from 1 to 9`);
  }
  return { runs, subsetNodes };
}

try {
  const args = parse();
  if (!args) {
    process.stdout.write(`${USAGE}\n`);
  } else {
    const projectDir = projectRoot();
    const started = performance.now();
    const log = (line: string) =>
      process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);
    const { report, resultsFile } = await runBench({ projectDir, ...args, log });
    await writeReport(resultsFile, report);
    process.stdout.write(
      `${renderReport(report)}\n\nresults: ${path.relative(process.cwd(), resultsFile)}\n`,
    );
    process.exitCode = report.targets.every((target) => target.pass) ? 0 : 1;
  }
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}

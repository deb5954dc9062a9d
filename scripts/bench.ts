#!/usr/bin/env -S npx tsx
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderBootReport, runBootBench } from '../bench/boot-bench.ts';
import { renderDeployReport, runDeployBench } from '../bench/deploy-bench.ts';
import { renderPublishReport, runPublishBench } from '../bench/publish-bench.ts';
import { renderReport, writeReport } from '../bench/report.ts';
import { runBench } from '../bench/run-bench.ts';
import { projectRoot } from '../src/cli/project-root.ts';

const SUITES = ['bake', 'publish', 'deploy', 'boot'] as const;
type Suite = (typeof SUITES)[number];

const USAGE = `Usage: npm run bench -- [--suite ${SUITES.join('|')}|all] [--runs N] [--subset-nodes K]

bake:    times the bake of the bench lab (router pi0 + nodes pi1..pi10) from the cached clean image
         in .bench/ (built on first use from real files of this machine: takes minutes), against the
         whole-image-per-host baseline, with peak memory. Writes .bench/results.json.
publish: publishes the baked bench lab over SFTP to an sshd in a network namespace (root), against
         scp -r and rsync in the same run, counting bytes on the wire. Writes .bench/publish-results.json.
deploy:  deploys a baked bench node to fake Pis (namespaces, sshd, loop-device disks, real ocs-sr;
         root), its restore step against a bare ocs-sr restoredisk, and three nodes at once against
         one. Writes .bench/deploy-results.json.
boot:    boot-tests the bootable sample (root: mmdebstrap builds it once): a verified node alone and
         a verified router + node lab, the share of it the VMs ran, against a bare QEMU first boot of
         the same disk in the same run. Writes .bench/boot-results.json.
Every figure is the median of N runs (default 3).
Exit status: 0 every target met, 1 a target missed, 2 the bench itself failed.`;

function parse() {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string' },
      runs: { type: 'string' },
      'subset-nodes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const runs = Number(values.runs ?? 3);
  const subsetNodes = Number(values['subset-nodes'] ?? 1);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs ${values.runs ?? ''}: give a whole number >= 1`);
  // Nodes are added to the subset's bake one, then the rest: at least two must be left out.
  if (!Number.isInteger(subsetNodes) || subsetNodes < 1 || subsetNodes > 8)
    throw new Error(`--subset-nodes ${values['subset-nodes'] ?? ''}: give a whole number from 1 to 8`);
  const suite = values.suite ?? 'all';
  if (suite !== 'all' && !SUITES.includes(suite as Suite))
    throw new Error(`--suite ${suite}: give one of ${SUITES.join(', ')} or all`);
  const suites: readonly Suite[] = suite === 'all' ? SUITES : [suite as Suite];
  return { runs, subsetNodes, suites };
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
    let pass = true;
    if (args.suites.includes('bake')) {
      const { report, resultsFile } = await runBench({
        projectDir,
        runs: args.runs,
        subsetNodes: args.subsetNodes,
        log,
      });
      await writeReport(resultsFile, report);
      process.stdout.write(
        `${renderReport(report)}\n\nresults: ${path.relative(process.cwd(), resultsFile)}\n\n`,
      );
      pass &&= report.targets.every((target) => target.pass);
    }
    if (args.suites.includes('publish')) {
      const report = await runPublishBench({ projectDir, runs: args.runs, log });
      const resultsFile = path.join(projectDir, '.bench', 'publish-results.json');
      await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(
        `${renderPublishReport(report)}\n\nresults: ${path.relative(process.cwd(), resultsFile)}\n\n`,
      );
      pass &&= report.targets.every((target) => target.pass);
    }
    if (args.suites.includes('deploy')) {
      const report = await runDeployBench({ projectDir, runs: args.runs, log });
      const resultsFile = path.join(projectDir, '.bench', 'deploy-results.json');
      await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(
        `${renderDeployReport(report)}\n\nresults: ${path.relative(process.cwd(), resultsFile)}\n\n`,
      );
      pass &&= report.targets.every((target) => target.pass);
    }
    if (args.suites.includes('boot')) {
      const report = await runBootBench({ projectDir, runs: args.runs, log });
      const resultsFile = path.join(projectDir, '.bench', 'boot-results.json');
      await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(
        `${renderBootReport(report)}\n\nresults: ${path.relative(process.cwd(), resultsFile)}\n\n`,
      );
    }
    process.exitCode = pass ? 0 : 1;
  }
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}

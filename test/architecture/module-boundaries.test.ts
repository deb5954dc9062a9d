import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { PROJECT_DIR } from '../helpers/bake-cli.ts';

/*
 * The stages of src/ as a graph of directories, read from the import lines: the image contract
 * lives in src/image, the bake's internals stay in src/bake, and no two stages depend on each other.
 */

const SRC = path.join(PROJECT_DIR, 'src');

interface SourceFile {
  readonly name: string;
  readonly stage: string;
  readonly text: string;
  readonly imports: readonly string[];
}

async function sourceFiles(): Promise<SourceFile[]> {
  const entries = await readdir(SRC, { recursive: true, withFileTypes: true });
  const files: SourceFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !/\.m?ts$/.test(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = await readFile(file, 'utf8');
    const imports = [...text.matchAll(/from '(\.[^']+)'/g)].map((m) =>
      path.relative(SRC, path.resolve(path.dirname(file), m[1] ?? '')),
    );
    files.push({ name: path.relative(SRC, file), stage: stageOf(path.relative(SRC, file)), text, imports });
  }
  return files;
}

function stageOf(relative: string): string {
  return relative.includes('/') ? (relative.split('/')[0] ?? '') : '.';
}

test('only the CLI, which starts a bake, imports from src/bake', async (t) => {
  const outside = (await sourceFiles())
    .filter((file) => file.stage !== 'bake' && file.stage !== 'cli')
    .flatMap((file) =>
      file.imports.filter((target) => stageOf(target) === 'bake').map((target) => `${file.name} → ${target}`),
    );
  t.deepEqual(outside, []);
});

test('every manifest and marker is parsed in src/image: no JSON cast to a Manifest elsewhere', async (t) => {
  const casts = (await sourceFiles())
    .filter(
      (file) =>
        file.stage !== 'image' &&
        /as (Manifest|ImageMarker)\b|IMAGE_MARKER_PATH[^;]*JSON\.parse|"version":\\s/.test(file.text),
    )
    .map((file) => file.name);
  t.deepEqual(casts, []);
});

test('the stages form no cycle', async (t) => {
  const graph = new Map<string, Set<string>>();
  for (const file of await sourceFiles()) {
    const edges = graph.get(file.stage) ?? new Set<string>();
    for (const target of file.imports)
      if (stageOf(target) !== file.stage && stageOf(target) !== '.') edges.add(stageOf(target));
    graph.set(file.stage, edges);
  }
  const cycles: string[] = [];
  const visit = (stage: string, trail: readonly string[]): void => {
    if (trail.includes(stage)) {
      cycles.push([...trail.slice(trail.indexOf(stage)), stage].join(' → '));
      return;
    }
    for (const next of graph.get(stage) ?? []) visit(next, [...trail, stage]);
  };
  for (const stage of graph.keys()) visit(stage, []);
  t.deepEqual(cycles, []);
  t.true((graph.get('lab')?.size ?? 0) > 0, 'the graph was read (lab imports shared values)');
});

#!/usr/bin/env -S npx tsx
// CI step: bake every host of the lab (incrementally, into a directory kept between runs).
// Locally: npx tsx ci/bake.ts [--lab FILE] [--clean DIR] [--out DIR] [--report-dir DIR]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { ciOptions } from './ci-options.ts';

const options = ciOptions();
await mkdir(options.reportDir, { recursive: true });
const args = ['--lab', options.lab, '--out', options.out, '--json'];
if (options.clean) args.push('--clean', options.clean);
const bake = await $({
  cwd: options.projectDir,
  nothrow: true,
  stdio: ['ignore', 'pipe', 'inherit'],
})`npm run -s bake -- ${args}`;
await writeFile(path.join(options.reportDir, 'bake.json'), bake.stdout);
process.exitCode = bake.exitCode ?? 1;

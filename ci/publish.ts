#!/usr/bin/env -S npx tsx
// CI step (main branch only): publish the baked images to the share.
// Locally: npx tsx ci/publish.ts [--lab FILE] [--out DIR] [--share TARGET] [--report-dir DIR]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { ciOptions } from './ci-options.ts';

const options = ciOptions();
await mkdir(options.reportDir, { recursive: true });
const args = ['--lab', options.lab, '--from', options.out, '--json'];
if (options.share) args.push('--to', options.share);
const publish = await $({
  cwd: options.projectDir,
  nothrow: true,
  stdio: ['ignore', 'pipe', 'inherit'],
})`npm run -s publish -- ${args}`;
await writeFile(path.join(options.reportDir, 'publish.json'), publish.stdout);
process.exitCode = publish.exitCode ?? 1;

#!/usr/bin/env -S npx tsx
// CI step: what each host's freshly baked image changes against the version current on the share,
// as Markdown (report.md, and the job summary when GITHUB_STEP_SUMMARY is set). Publishes nothing.
// Locally: npx tsx ci/report.ts [--lab FILE] [--out DIR] [--share TARGET] [--report-dir DIR]
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from '../src/image/manifest.ts';
import { resolveShareOption } from '../src/cli/share-options.ts';
import { describeError } from '../src/errors.ts';
import { loadLab } from '../src/lab/load-lab.ts';
import { compareManifests, type HostChanges } from '../src/report/compare-manifests.ts';
import { renderChangeReport } from '../src/report/render-report.ts';
import { openShare } from '../src/share/open-share.ts';
import { readHostOnShare, readVersionManifest } from '../src/share/read-share-state.ts';
import { describeShareTarget } from '../src/values/share-target.ts';
import type { Manifest } from '../src/image/manifest.ts';
import { ciOptions } from './ci-options.ts';

const options = ciOptions();
const lab = await loadLab(options.lab, { projectDir: options.projectDir });
const hosts = lab.hosts.filter((host) => host.recipe !== undefined).map((host) => host.name);

const current = new Map<string, Manifest>();
let comparedWith = 'nothing (no share configured)';
if (options.share !== undefined || lab.share) {
  const target = resolveShareOption({ flag: '--share', value: options.share }, lab, 'report');
  comparedWith = `the current versions on ${describeShareTarget(target, lab.ssh.user)}`;
  try {
    const share = await openShare(target, lab);
    try {
      for (const host of hosts) {
        const state = await readHostOnShare(share, host);
        const manifest = state.current ? await readVersionManifest(share, host, state.current) : undefined;
        if (manifest) current.set(host, manifest);
      }
    } finally {
      await share.close();
    }
  } catch (error) {
    comparedWith = `nothing: the share could not be read (${describeError(error).split('\n')[0] ?? ''})`;
  }
}

const changes: HostChanges[] = [];
const missing: string[] = [];
for (const host of hosts) {
  const baked = await readManifest(path.join(options.out, host));
  if (baked) changes.push(compareManifests(current.get(host), baked));
  else missing.push(host);
}
let report = renderChangeReport(changes, comparedWith);
if (missing.length > 0) report += `\nNot baked: ${missing.join(', ')}\n`;
await mkdir(options.reportDir, { recursive: true });
await writeFile(path.join(options.reportDir, 'report.md'), report);
if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, report);
process.stdout.write(report);
process.exitCode = missing.length > 0 ? 1 : 0;

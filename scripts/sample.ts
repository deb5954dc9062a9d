#!/usr/bin/env -S npx tsx
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';
import { sampleCommand } from '../src/cli/sample-command.ts';

process.exitCode = await runCliCommand(sampleCommand, process.argv.slice(2), projectRoot());

#!/usr/bin/env -S npx tsx
import { powerCommand } from '../src/cli/power-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(powerCommand, process.argv.slice(2), projectRoot());

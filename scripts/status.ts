#!/usr/bin/env -S npx tsx
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';
import { statusCommand } from '../src/cli/status-command.ts';

process.exitCode = await runCliCommand(statusCommand, process.argv.slice(2), projectRoot());

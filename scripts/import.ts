#!/usr/bin/env -S npx tsx
import { importCommand } from '../src/cli/import-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(importCommand, process.argv.slice(2), projectRoot());

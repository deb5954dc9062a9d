#!/usr/bin/env -S npx tsx
import { rollbackCommand } from '../src/cli/rollback-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(rollbackCommand, process.argv.slice(2), projectRoot());

#!/usr/bin/env -S npx tsx
import { bakeCommand } from '../src/cli/bake-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(bakeCommand, process.argv.slice(2), projectRoot());

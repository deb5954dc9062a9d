#!/usr/bin/env -S npx tsx
import { deployCommand } from '../src/cli/deploy-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(deployCommand, process.argv.slice(2), projectRoot());

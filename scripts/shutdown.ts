#!/usr/bin/env -S npx tsx
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';
import { shutdownCommand } from '../src/cli/shutdown-command.ts';

process.exitCode = await runCliCommand(shutdownCommand, process.argv.slice(2), projectRoot());

#!/usr/bin/env -S npx tsx
import { projectRoot } from '../src/cli/project-root.ts';
import { rebootCommand } from '../src/cli/reboot-command.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(rebootCommand, process.argv.slice(2), projectRoot());

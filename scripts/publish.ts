#!/usr/bin/env -S npx tsx
import { publishCommand } from '../src/cli/publish-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(publishCommand, process.argv.slice(2), projectRoot());

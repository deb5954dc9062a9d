#!/usr/bin/env -S npx tsx
import { bootTestCommand } from '../src/cli/boot-test-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(bootTestCommand, process.argv.slice(2), projectRoot());

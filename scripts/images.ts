#!/usr/bin/env -S npx tsx
import { imagesCommand } from '../src/cli/images-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(imagesCommand, process.argv.slice(2), projectRoot());

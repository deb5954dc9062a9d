#!/usr/bin/env -S npx tsx
import { importCommand } from '../src/cli/import-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';

process.exitCode = await importCommand(process.argv.slice(2), projectRoot());

#!/usr/bin/env -S npx tsx
import { rollbackCommand } from '../src/cli/rollback-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';

process.exitCode = await rollbackCommand(process.argv.slice(2), projectRoot());

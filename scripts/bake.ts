#!/usr/bin/env -S npx tsx
import { bakeCommand } from '../src/cli/bake-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';

process.exitCode = await bakeCommand(process.argv.slice(2), projectRoot());

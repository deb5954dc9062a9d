#!/usr/bin/env -S npx tsx
import { deployCommand } from '../src/cli/deploy-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';

process.exitCode = await deployCommand(process.argv.slice(2), projectRoot());

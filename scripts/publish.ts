#!/usr/bin/env -S npx tsx
import { publishCommand } from '../src/cli/publish-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';

process.exitCode = await publishCommand(process.argv.slice(2), projectRoot());

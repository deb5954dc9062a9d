#!/usr/bin/env -S npx tsx
import { bootTestCommand } from '../src/cli/boot-test-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';

process.exitCode = await bootTestCommand(process.argv.slice(2), projectRoot());

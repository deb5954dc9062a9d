#!/usr/bin/env -S npx tsx
import { imagesCommand } from '../src/cli/images-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';

process.exitCode = await imagesCommand(process.argv.slice(2), projectRoot());

#!/usr/bin/env -S npx tsx
import { auditCommand } from '../src/cli/audit-command.ts';
import { projectRoot } from '../src/cli/project-root.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

process.exitCode = await runCliCommand(auditCommand, process.argv.slice(2), projectRoot());

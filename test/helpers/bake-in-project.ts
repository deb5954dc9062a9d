import { bakeCommand } from '../../src/cli/bake-command.ts';
import { runCliCommand } from '../../src/cli/run-cli-command.ts';

/**
 * `node --import tsx bake-in-project.ts PROJECT_DIR ARGS...`: scripts/bake.ts with another project dir
 * (recipes/ and overlays/), which its CLI cannot be pointed at. Same entry, same exit codes.
 */
const [projectDir, ...argv] = process.argv.slice(2);
if (!projectDir) throw new Error('usage: bake-in-project.ts PROJECT_DIR [bake args...]');
process.exitCode = await runCliCommand(bakeCommand, argv, projectDir);

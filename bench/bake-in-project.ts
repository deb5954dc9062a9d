import { bakeCommand } from '../src/cli/bake-command.ts';
import { runCliCommand } from '../src/cli/run-cli-command.ts';

/**
 * `node --import tsx bench/bake-in-project.ts PROJECT_DIR ARGS...`: scripts/bake.ts with another
 * project dir (recipes/ and overlays/), which its CLI cannot be pointed at. Same entry, same exit
 * codes. The bench bakes a changed overlay with it, and so do the tests.
 */
const [projectDir, ...argv] = process.argv.slice(2);
if (!projectDir) throw new Error('usage: bake-in-project.ts PROJECT_DIR [bake args...]');
process.exitCode = await runCliCommand(bakeCommand, argv, projectDir);

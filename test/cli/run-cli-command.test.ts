import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { auditCommand } from '../../src/cli/audit-command.ts';
import { bakeCommand } from '../../src/cli/bake-command.ts';
import { bootTestCommand } from '../../src/cli/boot-test-command.ts';
import type { CommandDefinition } from '../../src/cli/define-command.ts';
import { deployCommand } from '../../src/cli/deploy-command.ts';
import { imagesCommand } from '../../src/cli/images-command.ts';
import { importCommand } from '../../src/cli/import-command.ts';
import type { CliOptions } from '../../src/cli/parse-cli-args.ts';
import { powerCommand } from '../../src/cli/power-command.ts';
import { publishCommand } from '../../src/cli/publish-command.ts';
import { rebootCommand } from '../../src/cli/reboot-command.ts';
import { rollbackCommand } from '../../src/cli/rollback-command.ts';
import { sampleCommand } from '../../src/cli/sample-command.ts';
import { shutdownCommand } from '../../src/cli/shutdown-command.ts';
import { statusCommand } from '../../src/cli/status-command.ts';
import { cliOutput, PROJECT_DIR, runBakeCli, runScriptCli, SAMPLE_LAB_FILE } from '../helpers/bake-cli.ts';
import { makeProjectCopy } from '../helpers/output-tree.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/*
 * The runner every entry script goes through (runCliCommand), seen through the real scripts:
 * usage errors, --help, the default lab file, argument checks before the lab, text or JSON.
 * Serial: each case starts node, and the machine is shared.
 */

const COMMANDS: readonly CommandDefinition<CliOptions>[] = [
  bakeCommand,
  importCommand,
  publishCommand,
  rollbackCommand,
  imagesCommand,
  deployCommand,
  bootTestCommand,
  sampleCommand,
  statusCommand,
  powerCommand,
  shutdownCommand,
  rebootCommand,
  auditCommand,
];

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

test.serial(
  'an unknown option: the usage on stderr, nothing on stdout, exit 2 (every command)',
  async (t) => {
    for (const command of COMMANDS) {
      const result = await runScriptCli(command.name, ['--no-such-option']);
      t.is(result.exitCode, 2, `${command.name}: ${cliOutput(result)}`);
      t.is(result.stdout, '', command.name);
      t.true(result.stderr.startsWith("error: Unknown option '--no-such-option'"), cliOutput(result));
      t.true(result.stderr.includes(firstLine(command.usage)), cliOutput(result));
    }
  },
);

test.serial('--help: the usage on stdout and nothing else, exit 0 (every command), -h too', async (t) => {
  for (const command of COMMANDS) {
    const result = await runScriptCli(command.name, ['--help']);
    t.is(result.exitCode, 0, `${command.name}: ${cliOutput(result)}`);
    t.is(result.stdout, `${command.usage}\n`, command.name);
    t.is(result.stderr, '', command.name);
  }
  const short = await runScriptCli('deploy', ['-h']);
  t.is(short.exitCode, 0, cliOutput(short));
  t.is(short.stdout, `${deployCommand.usage}\n`);
});

test.serial("without --lab the lab is the project's recipes/lab.yaml; --lab names another", async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());

  const inRepository = await runScriptCli('rollback', ['pi9']);
  t.is(inRepository.exitCode, 2, cliOutput(inRepository));
  t.true(inRepository.stderr.includes(`pi9: not in ${SAMPLE_LAB_FILE} `), cliOutput(inRepository));

  const project = await makeProjectCopy(path.join(temp.path, 'project'));
  const inCopy = await runBakeCli(['pi9', '--dry-run'], { projectDir: project });
  t.is(inCopy.exitCode, 2, cliOutput(inCopy));
  t.true(inCopy.stderr.includes(`pi9: not in ${path.join(project, 'recipes/lab.yaml')} `), cliOutput(inCopy));

  const other = path.join(temp.path, 'elsewhere/other-lab.yaml');
  await mkdir(path.dirname(other));
  await copyFile(SAMPLE_LAB_FILE, other);
  const named = await runScriptCli('rollback', ['pi9', '--lab', other]);
  t.is(named.exitCode, 2, cliOutput(named));
  t.true(named.stderr.includes(`pi9: not in ${other} `), cliOutput(named));
});

test.serial('the arguments are checked before the lab file is read', async (t) => {
  const result = await runScriptCli('rollback', ['--lab', path.join(PROJECT_DIR, 'no-such-lab.yaml')]);
  t.is(result.exitCode, 2, cliOutput(result));
  t.regex(result.stderr, /^error: Name exactly one host to roll back\./);
  t.notRegex(result.stderr, /no-such-lab/);
});

test.serial('a result is printed as text, or as JSON with --json; exit 1 when it is not ok', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const empty = ['--from', temp.path];

  const json = await runScriptCli('images', [...empty, '--local', '--json']);
  t.is(json.exitCode, 0, cliOutput(json));
  t.deepEqual(JSON.parse(json.stdout), { share: null, shareError: null, images: [] });

  const missingShare = path.join(temp.path, 'no-share');
  const text = await runScriptCli('images', [...empty, '--share', missingShare]);
  t.is(text.exitCode, 1, cliOutput(text));
  t.regex(text.stdout, /^host +where +version +date +size +state\n\nshare: .*no-share\n$/);
  t.regex(text.stderr, /The share could not be read:\nThe share .*no-share is not a directory\./);
});

import path from 'node:path';
import { UserError } from '../errors.ts';
import { loadLab } from '../lab/load-lab.ts';
import { selectRecipeHosts } from '../lab/select-hosts.ts';
import { rollbackHost } from '../publish/rollback-host.ts';
import { openShare } from '../share/open-share.ts';
import { jsonOutput } from './json-output.ts';
import { EXIT_OK, reportFatal } from './exit-codes.ts';
import { runInterruptibly } from './interrupts.ts';
import { parseCliArgs } from './parse-cli-args.ts';
import { resolveShareOption } from './share-options.ts';

export const ROLLBACK_USAGE = `Usage: npm run rollback -- HOST [--to VERSION] [--lab FILE] [--share TARGET] [--json]

Makes an earlier published version of HOST its current image on the share again: VERSION, or the
version that was current before this one. npm run images lists the versions.
  --share TARGET  a directory, or sftp://[user@]host[:port]/path (default: the lab's share.target)`;

export async function rollbackCommand(argv: readonly string[], projectDir: string): Promise<number> {
  try {
    const { values, positionals } = parseRollbackArgs(argv);
    if (values.help) {
      process.stdout.write(`${ROLLBACK_USAGE}\n`);
      return EXIT_OK;
    }
    if (positionals.length !== 1)
      throw new UserError('Name exactly one host to roll back.', [ROLLBACK_USAGE]);
    const lab = await loadLab(path.resolve(values.lab ?? path.join(projectDir, 'recipes/lab.yaml')), {
      projectDir,
    });
    const [host] = selectRecipeHosts(lab, positionals, 'roll back');
    if (!host) throw new UserError('Name exactly one host to roll back.', [ROLLBACK_USAGE]);
    const target = resolveShareOption({ flag: '--share', value: values.share }, lab, 'rollback');
    const result = await runInterruptibly(async () => {
      const share = await openShare(target, lab);
      try {
        return await rollbackHost(share, host.name, values.to);
      } finally {
        await share.close();
      }
    }, "the host's current version is the one it had (a rollback is one rename on the share).");
    if (values.json) process.stdout.write(jsonOutput(result));
    else if (result.unchanged) process.stdout.write(`${result.host}: ${result.to} is current already.\n`);
    else process.stdout.write(`${result.host}: ${result.from ?? '(none)'} → ${result.to} is now current.\n`);
    return EXIT_OK;
  } catch (error) {
    return reportFatal(error);
  }
}

function parseRollbackArgs(argv: readonly string[]) {
  return parseCliArgs(
    argv,
    {
      lab: { type: 'string' },
      to: { type: 'string' },
      share: { type: 'string' },
      json: { type: 'boolean' },
    },
    ROLLBACK_USAGE,
  );
}

import { UserError } from '../errors.ts';
import { selectRecipeHosts } from '../lab/select-hosts.ts';
import { rollbackHost } from '../publish/rollback-host.ts';
import { openShare } from '../share/open-share.ts';
import { defineCommand } from './define-command.ts';
import { resolveShareOption } from './share-options.ts';

export const ROLLBACK_USAGE = `Usage: npm run rollback -- HOST [--to VERSION] [--lab FILE] [--share TARGET] [--json]

Makes an earlier published version of HOST its current image on the share again: VERSION, or the
version that was current before this one. npm run images lists the versions.
  --share TARGET  a directory, or sftp://[user@]host[:port]/path (default: the lab's share.target)`;

export const rollbackCommand = defineCommand({
  name: 'rollback',
  usage: ROLLBACK_USAGE,
  options: {
    to: { type: 'string' },
    share: { type: 'string' },
    json: { type: 'boolean' },
  },
  readsLab: true,
  leftAsItWas: "the host's current version is the one it had (a rollback is one rename on the share).",
  checkArguments: ({ positionals }) => {
    if (positionals.length !== 1)
      throw new UserError('Name exactly one host to roll back.', [ROLLBACK_USAGE]);
  },
  run: async ({ values, positionals, lab, name, interruptibly }) => {
    const [host] = selectRecipeHosts(lab, positionals, 'roll back');
    if (!host) throw new UserError('Name exactly one host to roll back.', [ROLLBACK_USAGE]);
    const target = resolveShareOption({ flag: '--share', value: values.share }, lab, name);
    const result = await interruptibly(async () => {
      const share = await openShare(target, lab);
      try {
        return await rollbackHost(share, host.name, values.to);
      } finally {
        await share.close();
      }
    });
    return {
      ok: true,
      json: result,
      printText: () => {
        if (result.unchanged) process.stdout.write(`${result.host}: ${result.to} is current already.\n`);
        else
          process.stdout.write(`${result.host}: ${result.from ?? '(none)'} → ${result.to} is now current.\n`);
      },
    };
  },
});

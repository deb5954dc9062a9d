import path from 'node:path';
import { UserError } from '../errors.ts';
import { selectRecipeHosts } from '../lab/select-hosts.ts';
import { publishImages } from '../publish/publish-images.ts';
import { SILENT_PUBLISH_REPORTER } from '../publish/publish-events.ts';
import { readLocalImages } from '../publish/read-local-images.ts';
import { openShare } from '../share/open-share.ts';
import { defineCommand } from './define-command.ts';
import { formatBytes } from '../format-units.ts';
import { publishLineReporter, publishLiveReporter, publishSummary } from './publish-view.ts';
import { resolveShareOption } from './share-options.ts';

export const PUBLISH_USAGE = `Usage: npm run publish -- [HOST...] [--lab FILE] [--from DIR] [--to TARGET] [--keep N] [--json]

Uploads the baked images (default: every host with a recipe) to the image share, verifies them
there and makes each one its host's current version; earlier versions stay for rollback.
  --lab FILE    lab file (default recipes/lab.yaml)
  --from DIR    baked images (default images/)
  --to TARGET   a directory, or sftp://[user@]host[:port]/path (default: the lab's share.target)
  --keep N      versions kept per host (default: the lab's share.keep, else 3)
  --json        print a machine-readable result on stdout`;

const PUBLISH_LEFT_AS_IT_WAS =
  "each host's current version on the share is the one it had, or the new one if it was reported published above; partial uploads are removed on the next publish. Publish again to finish.";

export const publishCommand = defineCommand({
  name: 'publish',
  usage: PUBLISH_USAGE,
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    keep: { type: 'string' },
    json: { type: 'boolean' },
  },
  readsLab: true,
  leftAsItWas: PUBLISH_LEFT_AS_IT_WAS,
  run: async ({ values, positionals, lab, name, projectDir, interruptibly }) => {
    const hosts = selectRecipeHosts(lab, positionals, 'publish').map((host) => host.name);
    const keep = parseKeep(values.keep) ?? lab.share?.keep ?? 3;
    const fromDir = path.resolve(values.from ?? path.join(projectDir, 'images'));
    const images = await readLocalImages(fromDir, hosts);
    const target = resolveShareOption({ flag: '--to', value: values.to }, lab, name);
    const live = !values.json && process.stderr.isTTY ? publishLiveReporter(process.stderr) : undefined;
    const reporter = values.json ? SILENT_PUBLISH_REPORTER : (live ?? publishLineReporter(process.stderr));
    const result = await interruptibly(async () => {
      const share = await openShare(target, lab);
      try {
        return await publishImages({ share, images, keep, reporter });
      } finally {
        await share.close();
      }
    }).finally(() => live?.close());
    return {
      ok: result.ok,
      json: {
        ok: result.ok,
        bytesSent: result.bytesSent,
        leftoversRemoved: result.leftoversRemoved,
        hosts: result.outcomes,
        transfers: result.transfers,
        pruned: result.pruned,
      },
      printText: () => {
        process.stdout.write(`\n${publishSummary(result.outcomes)}\n`);
        process.stdout.write(`\n${formatBytes(result.bytesSent)} sent.\n`);
        for (const outcome of result.outcomes)
          if (outcome.error) process.stderr.write(`\n${outcome.host} failed:\n${outcome.error}\n`);
      },
    };
  },
});

function parseKeep(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const keep = Number(text);
  if (!Number.isInteger(keep) || keep < 1 || keep > 100)
    throw new UserError(`--keep ${text}: give a whole number from 1 to 100.`);
  return keep;
}

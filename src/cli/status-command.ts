import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, UserError } from '../errors.ts';
import type { Lab } from '../lab/lab-types.ts';
import { selectLabHosts } from '../lab/select-hosts.ts';
import type { ShareFs } from '../share/share-fs.ts';
import { openShare } from '../share/open-share.ts';
import { gatherStatus } from '../status/gather-status.ts';
import { defineCommand } from './define-command.ts';
import { secondsOption } from './seconds-option.ts';
import { SUDO_PASSWORD_FILE, sudoPasswordOption } from './sudo-option.ts';
import { SUDO_PASSWORD_VARIABLE } from '../ssh/sudo-password.ts';
import { renderStatus, watchFrame } from './status-view.ts';

export const STATUS_USAGE = `Usage: npm run status -- [HOST...] [--lab FILE] [--from DIR] [--timeout S] [--watch S] [--json]
                        [--sudo-password-file F]

One line per host (default: every host of the lab), all at once, changing nothing: up, no SSH (the
port answers but SSH does not: wedged) or down; running as itself or in its SD imager; the image
version it runs, the share's current one and the one baked here; uptime; bootloader and boot mode;
under-voltage and throttling; and drift: every file the bake wrote, compared with the host.
Exits 1 when a host is not up.
  --from DIR     baked images (default images/)
  --timeout S    seconds per attempt at reaching a host (default 5)
  --watch S      refresh every S seconds until Ctrl-C
  --json         print a machine-readable result on stdout
  --sudo-password-file F   for files only root may read (or ${SUDO_PASSWORD_VARIABLE}); without it,
                           they are read only where sudo needs no password, else listed unverified`;

export const statusCommand = defineCommand({
  name: 'status',
  usage: STATUS_USAGE,
  options: {
    from: { type: 'string' },
    timeout: { type: 'string' },
    watch: { type: 'string' },
    json: { type: 'boolean' },
    ...SUDO_PASSWORD_FILE,
  },
  readsLab: true,
  leftAsItWas: 'status changes nothing.',
  checkArguments: ({ values }) => {
    secondsOption(values.timeout, '--timeout', { max: 3600 });
    secondsOption(values.watch, '--watch', { max: 3600 });
    if (values.watch !== undefined && values.json)
      throw new UserError('--watch and --json do not go together: --json prints one result.');
  },
  run: async ({ values, positionals, lab, name, projectDir, interruptibly }) => {
    const hosts = selectLabHosts(lab, positionals, name);
    const imagesDir = path.resolve(values.from ?? path.join(projectDir, 'images'));
    const timeoutSeconds = secondsOption(values.timeout, '--timeout', { fallback: 5, max: 3600 });
    // A glance never stops to ask: without a password given, root-only files stay unverified.
    const sudo = await sudoPasswordOption(values['sudo-password-file'], { prompt: false });
    const once = () =>
      interruptibly(async () => {
        const share = await openLabShare(lab);
        try {
          return await gatherStatus({ lab, hosts, imagesDir, share, timeoutSeconds, sudo });
        } finally {
          if (!('unreadable' in share)) await share.close();
        }
      });
    const watch = secondsOption(values.watch, '--watch', { max: 3600 });
    if (watch !== undefined) {
      for (;;) {
        const report = await once();
        process.stdout.write(watchFrame(renderStatus(report), new Date(), watch, process.stdout.isTTY));
        await interruptibly(() => sleep(watch * 1000));
      }
    }
    const report = await once();
    return {
      ok: report.hosts.every((status) => status.reach === 'up'),
      json: report,
      printText: () => process.stdout.write(renderStatus(report)),
    };
  },
});

async function openLabShare(lab: Lab): Promise<ShareFs | { unreadable: string }> {
  if (!lab.share) return { unreadable: 'the lab file has no share' };
  try {
    return await openShare(lab.share.target, lab);
  } catch (error) {
    return { unreadable: describeError(error).split('\n')[0] ?? '' };
  }
}

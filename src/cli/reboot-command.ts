import { UserError } from '../errors.ts';
import { formatTable } from '../format-units.ts';
import { selectLabHosts } from '../lab/select-hosts.ts';
import { type HostReboot, rebootLab } from '../reboot/reboot-lab.ts';
import { defineCommand } from './define-command.ts';
import { secondsOption } from './seconds-option.ts';
import { SUDO_PASSWORD_FILE, SUDO_USAGE, sudoPasswordOption } from './sudo-option.ts';

export const REBOOT_USAGE = `Usage: npm run reboot -- HOST...|--all [--lab FILE] [--timeout S] [--json] [--sudo-password-file F]

Reboots hosts and waits until each is back as itself (a new boot, its own name, the image version it
ran before), saying how long it took. The router goes last and alone, once the others are back: the
nodes are reached through it. A host not running as itself (down, or in its imager) is left alone.
  --all          every host of the lab
  --timeout S    how long each host may take to come back (default 300)
  --json         print a machine-readable result on stdout
${SUDO_USAGE}`;

export const rebootCommand = defineCommand({
  name: 'reboot',
  usage: REBOOT_USAGE,
  options: {
    all: { type: 'boolean' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    ...SUDO_PASSWORD_FILE,
  },
  readsLab: true,
  leftAsItWas: 'hosts already asked to reboot come back by themselves; the others were not touched.',
  checkArguments: ({ positionals, values }) => {
    if ((positionals.length === 0) === !values.all)
      throw new UserError('Name the hosts to reboot, or --all (not both).', [REBOOT_USAGE]);
    secondsOption(values.timeout, '--timeout', { fallback: 300, max: 3600 });
  },
  run: async ({ values, positionals, lab, name, interruptibly }) => {
    const hosts = selectLabHosts(lab, positionals, name);
    const json = values.json ?? false;
    const sudo = await sudoPasswordOption(values['sudo-password-file'], { prompt: true });
    const outcomes = await interruptibly(() =>
      rebootLab({
        lab,
        hosts,
        sudo,
        timeoutSeconds: secondsOption(values.timeout, '--timeout', { fallback: 300, max: 3600 }),
        onHost: (outcome) => {
          if (!json) process.stderr.write(`${outcome.host}: ${outcome.result} (${outcome.detail})\n`);
        },
      }),
    );
    return {
      ok: outcomes.every((outcome) => outcome.result === 'back'),
      json: { hosts: outcomes },
      printText: () => process.stdout.write(renderReboot(outcomes)),
    };
  },
});

function renderReboot(hosts: readonly HostReboot[]): string {
  return `${formatTable(
    ['host', 'result', 'seconds', 'version', 'detail'],
    hosts.map((h) => [h.host, h.result, h.seconds.toFixed(1), h.version ?? '-', h.detail]),
  )}\n`;
}

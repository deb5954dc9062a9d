import { UserError } from '../errors.ts';
import { formatTable } from '../format-units.ts';
import { selectLabHosts } from '../lab/select-hosts.ts';
import { type PlugOutcome, runPowerAction } from '../power/power-actions.ts';
import { type HostShutdown, shutdownLab } from '../shutdown/shutdown-lab.ts';
import { defineCommand } from './define-command.ts';
import { secondsOption } from './seconds-option.ts';
import { SUDO_PASSWORD_FILE, SUDO_USAGE, sudoPasswordOption } from './sudo-option.ts';

export const SHUTDOWN_USAGE = `Usage: npm run shutdown -- HOST...|--all [--lab FILE] [--power-off] [--power-off-after-timeout] [--timeout S] [--json]
                          [--sudo-password-file F]

Powers hosts off in order, each confirmed down (its SSH port closed or silent) before the next tier:
the nodes at once, then hosts without a recipe (data1), the router last. A host that does not go down
leaves the tiers after it running. With --power-off, each plug feeding them is switched off once every
host it feeds is down; --power-off-after-timeout cuts it even then (said in the result).
  --all                      every host of the lab
  --timeout S                how long each host may take to go down (default 120)
  --json                     print a machine-readable result on stdout
${SUDO_USAGE}`;

export const shutdownCommand = defineCommand({
  name: 'shutdown',
  usage: SHUTDOWN_USAGE,
  options: {
    all: { type: 'boolean' },
    'power-off': { type: 'boolean' },
    'power-off-after-timeout': { type: 'boolean' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    ...SUDO_PASSWORD_FILE,
  },
  readsLab: true,
  leftAsItWas: 'hosts reported down are off; the others keep running.',
  checkArguments: ({ positionals, values }) => {
    if ((positionals.length === 0) === !values.all)
      throw new UserError('Name the hosts to shut down, or --all (not both).', [SHUTDOWN_USAGE]);
    if (values['power-off-after-timeout'] && !values['power-off'])
      throw new UserError('--power-off-after-timeout goes with --power-off.');
    secondsOption(values.timeout, '--timeout', { fallback: 120, max: 3600 });
  },
  run: async ({ values, positionals, lab, name, interruptibly }) => {
    const hosts = selectLabHosts(lab, positionals, name);
    const json = values.json ?? false;
    const sudo = await sudoPasswordOption(values['sudo-password-file'], { prompt: true });
    const shutdowns = await interruptibly(() =>
      shutdownLab({
        lab,
        hosts,
        sudo,
        timeoutSeconds: secondsOption(values.timeout, '--timeout', { fallback: 120, max: 3600 }),
        onHost: (outcome) => {
          if (!json) process.stderr.write(`${outcome.host}: ${outcome.result} (${outcome.detail})\n`);
        },
      }),
    );
    const failed = shutdowns.some((outcome) => outcome.result === 'failed' || outcome.result === 'skipped');
    const names = new Set(hosts.map((host) => host.name));
    const plugs = (lab.power?.plugs ?? []).filter((plug) => plug.feeds.some((host) => names.has(host)));
    const power: PlugOutcome[] = values['power-off']
      ? await interruptibly(() =>
          runPowerAction({
            lab,
            action: 'off',
            plugs,
            force: (values['power-off-after-timeout'] ?? false) && failed,
            offSeconds: 10,
            probeSeconds: 3,
          }),
        )
      : [];
    return {
      ok: !failed && power.every((outcome) => outcome.ok),
      json: { hosts: shutdowns, plugs: power },
      printText: () => process.stdout.write(renderShutdown(shutdowns, power)),
    };
  },
});

function renderShutdown(hosts: readonly HostShutdown[], plugs: readonly PlugOutcome[]): string {
  const lines = [
    formatTable(
      ['host', 'result', 'seconds', 'detail'],
      hosts.map((h) => [h.host, h.result, h.seconds.toFixed(1), h.detail]),
    ),
  ];
  for (const plug of plugs) lines.push(`plug ${plug.plug}: ${plug.result}`);
  return `${lines.join('\n')}\n`;
}

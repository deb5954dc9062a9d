import { UserError } from '../errors.ts';
import { selectPower } from '../power/lab-plugs.ts';
import { type PlugOutcome, type PowerAction, runPowerAction } from '../power/power-actions.ts';
import { formatTable } from '../format-units.ts';
import { wakeHosts, type WakeOutcome } from '../power/wake-on-lan.ts';
import { defineCommand } from './define-command.ts';
import { secondsOption } from './seconds-option.ts';

export const POWER_USAGE = `Usage: npm run power -- on|off|cycle|status [PLUG|HOST] [--lab FILE] [--force] [--off-seconds S] [--json]

Drives the lab's smart plugs (the lab file's power.plugs): a plug by name, the plug feeding a host,
or every plug. off and cycle refuse while a host the plug feeds still answers SSH, unless --force.
cycle switches back on by the plug's own timer where it has one, so it completes even if this
machine loses the connection half-way. on also wakes the hosts marked wake_on_lan (the one named,
those the plug feeds, or all): the router sends the magic packet, so it must be up.
  --force          cut the power although a host it feeds still answers
  --off-seconds S  how long cycle leaves the power off (default 10)
  --json           print a machine-readable result on stdout`;

const WAKE_TIMEOUT_SECONDS = 10;

const ACTIONS: readonly PowerAction[] = ['on', 'off', 'cycle', 'status'];

export const powerCommand = defineCommand({
  name: 'power',
  usage: POWER_USAGE,
  options: {
    force: { type: 'boolean' },
    'off-seconds': { type: 'string' },
    json: { type: 'boolean' },
  },
  readsLab: true,
  leftAsItWas: 'a plug already told to switch has switched; the others are as they were.',
  checkArguments: ({ positionals, values }) => {
    const [action, , ...extra] = positionals;
    if (!ACTIONS.includes(action as PowerAction) || extra.length > 0)
      throw new UserError(`power takes on, off, cycle or status, then at most one plug or host.`, [
        POWER_USAGE,
      ]);
    secondsOption(values['off-seconds'], '--off-seconds', { fallback: 10, max: 3600, whole: true });
  },
  run: async ({ values, positionals, lab, interruptibly }) => {
    const [action, target] = positionals as [PowerAction, string | undefined];
    const selection = selectPower(lab, target, action);
    const outcomes = await interruptibly(() =>
      runPowerAction({
        lab,
        action,
        plugs: selection.plugs,
        force: values.force ?? false,
        offSeconds: secondsOption(values['off-seconds'], '--off-seconds', {
          fallback: 10,
          max: 3600,
          whole: true,
        }),
        probeSeconds: 3,
      }),
    );
    const woken = await interruptibly(() => wakeHosts(lab, selection.wake, WAKE_TIMEOUT_SECONDS));
    return {
      ok: [...outcomes, ...woken].every((outcome) => outcome.ok),
      json: { action, plugs: outcomes, woken },
      printText: () => process.stdout.write(renderOutcomes(outcomes) + renderWoken(woken)),
    };
  },
});

function renderOutcomes(outcomes: readonly PlugOutcome[]): string {
  if (outcomes.length === 0) return '';
  const table = formatTable(
    ['plug', 'power', 'feeds', 'result'],
    outcomes.map((o) => [
      o.plug,
      o.on === undefined ? '?' : o.on ? 'on' : 'off',
      o.feeds.join(' '),
      o.result,
    ]),
  );
  return `${table}\n`;
}

function renderWoken(woken: readonly WakeOutcome[]): string {
  if (woken.length === 0) return '';
  const table = formatTable(
    ['host', 'wake-on-LAN', 'result'],
    woken.map((w) => [w.host, w.mac, w.result]),
  );
  return `${table}\n`;
}

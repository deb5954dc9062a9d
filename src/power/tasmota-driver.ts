import { z } from 'zod';
import type { PlugDriver } from './plug-driver.ts';
import { oneLine, passwordMissing, passwordRefused, unexpectedAnswer } from './plug-errors.ts';
import { httpGet } from './plug-http.ts';
import { checkOffSeconds, type ResolvedPlug } from './resolved-plug.ts';

/*
 * Tasmota's web command interface: GET /cm?cmnd=<command>, the password (if the web admin has one)
 * in the query. A cycle is one Backlog that the plug runs by itself: Power Off, Delay, Power On.
 */

/** Delay counts tenths of a second, at most 3600 (6 minutes) per Delay command. */
const MAX_DELAY_TENTHS = 3600;

export function tasmotaCycleCommand(offSeconds: number): string {
  const delays: string[] = [];
  for (let tenths = offSeconds * 10; tenths > 0; tenths -= MAX_DELAY_TENTHS)
    delays.push(`Delay ${Math.min(tenths, MAX_DELAY_TENTHS)}`);
  return ['Backlog Power Off', ...delays, 'Power On'].join('; ');
}

/** The request target; spaces as %20, which every Tasmota version decodes. */
export function tasmotaCommandTarget(command: string, credentials?: ResolvedPlug['credentials']): string {
  const login = credentials
    ? `user=${encodeURIComponent(credentials.user)}&password=${encodeURIComponent(credentials.password)}&`
    : '';
  return `/cm?${login}cmnd=${encodeURIComponent(command)}`;
}

const powerSchema = z.union([
  z.object({ POWER: z.enum(['ON', 'OFF']) }).transform((answer) => answer.POWER),
  z.object({ POWER1: z.enum(['ON', 'OFF']) }).transform((answer) => answer.POWER1),
]);
const answerSchema = z.looseObject({ WARNING: z.string().optional(), Command: z.string().optional() });

export function openTasmotaPlug(plug: ResolvedPlug): PlugDriver {
  const power = async (command: string): Promise<boolean> => {
    const answer = await callTasmota(plug, command);
    const state = powerSchema.safeParse(answer);
    if (!state.success) throw unexpectedAnswer(plug, `"${command}"`, JSON.stringify(answer));
    return state.data === 'ON';
  };
  return {
    isOn: () => power('Power'),
    async switchTo(on) {
      const now = await power(on ? 'Power On' : 'Power Off');
      if (now !== on)
        throw unexpectedAnswer(plug, `"Power ${on ? 'On' : 'Off'}"`, `POWER ${now ? 'ON' : 'OFF'}`);
    },
    async cycle(offSeconds) {
      checkOffSeconds(plug, offSeconds);
      // The Backlog is queued and run after the answer, so the answer says nothing about it.
      await callTasmota(plug, tasmotaCycleCommand(offSeconds));
      return true;
    },
  };
}

async function callTasmota(plug: ResolvedPlug, command: string): Promise<Record<string, unknown>> {
  const request = `"${command.split(';')[0] ?? command}"`;
  const answer = await httpGet(plug, tasmotaCommandTarget(command, plug.credentials));
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw unexpectedAnswer(plug, request, `HTTP ${answer.status} ${answer.body}`);
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw unexpectedAnswer(plug, request, `HTTP ${answer.status} ${oneLine(answer.body)}`);
  // "Need user=<username>&password=<password>", translated in localized builds but always with "=<".
  if (answer.status === 401 || parsed.data.WARNING?.includes('=<')) {
    if (!plug.credentials) throw passwordMissing(plug);
    throw passwordRefused(plug, plug.credentials.user);
  }
  // {"Command":"Unknown"} or {"Command":"Error"}; other warnings fail the caller's own check of the answer.
  if (answer.status !== 200 || parsed.data.Command !== undefined)
    throw unexpectedAnswer(plug, request, `HTTP ${answer.status} ${oneLine(answer.body)}`);
  return parsed.data;
}

import net from 'node:net';
import { z } from 'zod';
import { encodeKasaFrame, readKasaFrame } from './kasa-codec.ts';
import type { PlugDriver } from './plug-driver.ts';
import {
  exchangeFailed,
  type ExchangePhase,
  kasaWithoutLocalProtocol,
  type NetworkErrorLike,
  oneLine,
  PlugError,
  unexpectedAnswer,
} from './plug-errors.ts';
import { checkOffSeconds, type ResolvedPlug } from './resolved-plug.ts';

/** One request of the Kasa protocol: module → method → arguments. */
export type KasaRequest = Readonly<
  Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>
>;

export const KASA_SYSINFO: KasaRequest = { system: { get_sysinfo: {} } };

export function kasaRelayRequest(on: boolean): KasaRequest {
  return { system: { set_relay_state: { state: on ? 1 : 0 } } };
}

/** The count_down table holds one rule: add_rule on a full table fails ("table is full"). */
export const KASA_DELETE_COUNTDOWN_RULES: KasaRequest = { count_down: { delete_all_rules: {} } };

export function kasaCountdownRequest(onAfterSeconds: number): KasaRequest {
  return {
    count_down: { add_rule: { enable: 1, delay: onAfterSeconds, act: 1, name: 'pi-lab power cycle' } },
  };
}

const sysinfoSchema = z.object({ relay_state: z.union([z.literal(0), z.literal(1)]) });
const resultSchema = z.looseObject({ err_code: z.number(), err_msg: z.string().optional() });

export function openKasaPlug(plug: ResolvedPlug): PlugDriver {
  const call = (request: KasaRequest) => callKasa(plug, request);
  return {
    async isOn() {
      const result = await call(KASA_SYSINFO);
      const sysinfo = sysinfoSchema.safeParse(result);
      if (sysinfo.success) return sysinfo.data.relay_state === 1;
      const advice =
        'children' in result
          ? 'it is a strip with several outlets, which pi-lab does not switch yet; use a single-outlet plug'
          : undefined;
      throw unexpectedAnswer(
        plug,
        'system.get_sysinfo',
        `no relay_state in ${JSON.stringify(result)}`,
        advice,
      );
    },
    async switchTo(on) {
      await call(kasaRelayRequest(on));
    },
    async cycle(offSeconds) {
      checkOffSeconds(plug, offSeconds);
      const cleared = await askKasa(plug, KASA_DELETE_COUNTDOWN_RULES);
      if ('moduleMissing' in cleared) return false;
      // Off first, then the timer: the rule then never sees a relay change that might cancel it.
      await call(kasaRelayRequest(false));
      try {
        await call(kasaCountdownRequest(offSeconds));
      } catch (error) {
        if (!(error instanceof PlugError)) throw error;
        throw new PlugError(
          error.plug,
          error.problem,
          `${error.message} (it was switched off and may have no timer to switch it back on: check it)`,
        );
      }
      return true;
    },
  };
}

/** A method's result (err_code 0), or the plug's word that it lacks the module (an older or other device). */
type KasaOutcome = { readonly result: Record<string, unknown> } | { readonly moduleMissing: string };

/** Sends one single-method request and returns that method's result, its err_code checked. */
async function callKasa(plug: ResolvedPlug, request: KasaRequest): Promise<Record<string, unknown>> {
  const outcome = await askKasa(plug, request);
  if ('moduleMissing' in outcome) throw unexpectedAnswer(plug, requestName(request), outcome.moduleMissing);
  return outcome.result;
}

async function askKasa(plug: ResolvedPlug, request: KasaRequest): Promise<KasaOutcome> {
  const name = requestName(request);
  const [module = '', method = ''] = name.split('.');
  const answer = await exchangeKasa(plug, request, name);
  const moduleAnswer = isRecord(answer) ? answer[module] : undefined;
  const methodAnswer = resultSchema.safeParse(isRecord(moduleAnswer) ? moduleAnswer[method] : undefined);
  if (methodAnswer.success) {
    const { err_code, err_msg } = methodAnswer.data;
    if (err_code === 0) return { result: methodAnswer.data };
    throw unexpectedAnswer(plug, name, `err_code ${err_code}${err_msg ? ` (${err_msg})` : ''}`);
  }
  const moduleError = resultSchema.safeParse(moduleAnswer);
  if (moduleError.success && moduleError.data.err_code !== 0)
    return { moduleMissing: `err_code ${moduleError.data.err_code} (${moduleError.data.err_msg ?? ''})` };
  throw unexpectedAnswer(plug, name, JSON.stringify(answer));
}

/** `system.get_sysinfo`: every request here names one module and one method. */
function requestName(request: KasaRequest): string {
  const [module, methods] = Object.entries(request)[0] ?? [];
  const method = Object.keys(methods ?? {})[0];
  if (module === undefined || method === undefined)
    throw new Error('a Kasa request names one module and method');
  return `${module}.${method}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One TCP connection per request: connect, send one frame, read one frame, close; all within the timeout. */
function exchangeKasa(plug: ResolvedPlug, request: KasaRequest, name: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let phase: ExchangePhase = 'connecting';
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: plug.host, port: plug.port });
    const settle = (outcome: { error: Error } | { answer: unknown }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.answer);
    };
    const notKasa = (why: string): PlugError =>
      kasaWithoutLocalProtocol(plug, `answered something that is not the Kasa local protocol (${why})`);
    const timer = setTimeout(
      () => settle({ error: exchangeFailed(plug, 'timeout', phase) }),
      plug.timeoutSeconds * 1000,
    );
    socket.once('connect', () => {
      phase = 'waiting';
      socket.write(encodeKasaFrame(request));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const frame = readKasaFrame(received);
      if (frame.state === 'incomplete') return;
      if (frame.state === 'not-kasa') return settle({ error: notKasa(frame.why) });
      try {
        settle({ answer: JSON.parse(frame.text) });
      } catch {
        settle({ error: notKasa(`"${oneLine(frame.text).slice(0, 40)}"`) });
      }
    });
    socket.on('error', (error: NetworkErrorLike) =>
      settle({ error: kasaNetworkError(plug, name, error, phase, received) }),
    );
    socket.on('close', () => settle({ error: kasaNetworkError(plug, name, undefined, phase, received) }));
  });
}

/** A refusal or a close without a word on port 9999 is what Kasa firmware without the local protocol does. */
function kasaNetworkError(
  plug: ResolvedPlug,
  name: string,
  error: NetworkErrorLike | undefined,
  phase: ExchangePhase,
  received: Buffer,
): PlugError {
  if (error?.code === 'ECONNREFUSED')
    return kasaWithoutLocalProtocol(plug, `refused the connection on port ${plug.port}`);
  const closed = error === undefined || error.code === 'ECONNRESET' || error.code === 'EPIPE';
  if (phase === 'waiting' && closed) {
    if (received.length === 0)
      return kasaWithoutLocalProtocol(plug, 'closed the connection without answering');
    return unexpectedAnswer(plug, name, `the answer stopped after ${received.length} bytes`);
  }
  return exchangeFailed(plug, error ?? { message: 'connection closed' }, phase);
}

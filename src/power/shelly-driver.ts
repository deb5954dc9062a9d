import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { canAnswerDigest, digestAuthorization, parseDigestChallenge } from './http-digest.ts';
import type { PlugDriver } from './plug-driver.ts';
import { oneLine, passwordMissing, passwordRefused, unexpectedAnswer } from './plug-errors.ts';
import { type HttpAnswer, httpGet } from './plug-http.ts';
import { checkOffSeconds, type ResolvedPlug } from './resolved-plug.ts';

/*
 * Shelly Gen2+ (Plus, Pro, Gen3, Gen4) local RPC over HTTP GET, switch 0. `toggle_after` is the
 * plug's own flip-back timer: Switch.Set on=false toggle_after=N turns it back on N s later.
 */

export function shellyRpcTarget(
  method: string,
  params: Readonly<Record<string, string | number | boolean>>,
): string {
  const query = new URLSearchParams(
    Object.entries(params).map(([key, value]): [string, string] => [key, String(value)]),
  );
  return `/rpc/${method}?${query.toString()}`;
}

export function shellyStatusTarget(): string {
  return shellyRpcTarget('Switch.GetStatus', { id: 0 });
}

export function shellySetTarget(on: boolean, toggleAfterSeconds?: number): string {
  return shellyRpcTarget('Switch.Set', {
    id: 0,
    on,
    ...(toggleAfterSeconds === undefined ? {} : { toggle_after: toggleAfterSeconds }),
  });
}

const statusSchema = z.object({ output: z.boolean() });
const setSchema = z.object({ was_on: z.boolean() });

export function openShellyPlug(plug: ResolvedPlug): PlugDriver {
  return {
    async isOn() {
      return (await callShelly(plug, shellyStatusTarget(), statusSchema)).output;
    },
    async switchTo(on) {
      await callShelly(plug, shellySetTarget(on), setSchema);
    },
    async cycle(offSeconds) {
      checkOffSeconds(plug, offSeconds);
      await callShelly(plug, shellySetTarget(false, offSeconds), setSchema);
      return true;
    },
  };
}

async function callShelly<T>(plug: ResolvedPlug, target: string, schema: z.ZodType<T>): Promise<T> {
  const method = target.slice('/rpc/'.length).split('?')[0] ?? target;
  const answer = await getAuthenticated(plug, target, method);
  if (answer.status === 404)
    throw unexpectedAnswer(
      plug,
      method,
      `HTTP 404 ${answer.body}`,
      'is it a Shelly Gen2 or later? Gen1 Shellys (/relay/0) are not supported; check the driver in the lab file',
    );
  if (answer.status !== 200) throw unexpectedAnswer(plug, method, `HTTP ${answer.status} ${answer.body}`);
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw unexpectedAnswer(plug, method, answer.body);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw unexpectedAnswer(plug, method, oneLine(answer.body));
  return parsed.data;
}

/**
 * Asks without credentials first: a plug without a password answers at once, one with a password
 * answers 401 with a fresh nonce, which the second request answers with the digest.
 */
async function getAuthenticated(plug: ResolvedPlug, target: string, method: string): Promise<HttpAnswer> {
  const first = await httpGet(plug, target);
  if (first.status !== 401) return first;
  if (!plug.credentials) throw passwordMissing(plug);
  const header = first.headers['www-authenticate'] ?? '';
  const challenge = parseDigestChallenge(header);
  if (!challenge || !canAnswerDigest(challenge))
    throw unexpectedAnswer(
      plug,
      method,
      `HTTP 401 with "${header}"`,
      'Shelly Gen2+ plugs ask for SHA-256 digest; is it one? check the driver in the lab file',
    );
  const authorization = digestAuthorization({
    challenge,
    user: plug.credentials.user,
    password: plug.credentials.password,
    method: 'GET',
    uri: target,
    cnonce: randomBytes(12).toString('hex'),
    nonceCount: 1,
  });
  const second = await httpGet(plug, target, { authorization });
  if (second.status === 401) throw passwordRefused(plug, plug.credentials.user);
  return second;
}

import http from 'node:http';
import {
  exchangeFailed,
  type ExchangePhase,
  type NetworkErrorLike,
  type PlugError,
  unexpectedAnswer,
} from './plug-errors.ts';
import type { ResolvedPlug } from './resolved-plug.ts';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Plug answers are a few hundred bytes; a web page or an endless stream is not one. */
const MAX_ANSWER_BYTES = 1 << 20;

/**
 * One GET on a connection of its own (no keep-alive: nothing is left open between calls), the
 * whole exchange within the plug's timeout. Network failures become PlugErrors; any HTTP status is
 * an answer for the driver to judge.
 */
export function httpGet(
  plug: ResolvedPlug,
  target: string,
  headers: Readonly<Record<string, string>> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let phase: ExchangePhase = 'connecting';
    let settled = false;
    const request = http.request({
      host: plug.host,
      port: plug.port,
      path: target,
      method: 'GET',
      headers: { accept: 'application/json', ...headers },
      agent: false,
    });
    const settle = (outcome: { error: PlugError } | { answer: HttpAnswer }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.answer);
    };
    const timer = setTimeout(
      () => settle({ error: exchangeFailed(plug, 'timeout', phase) }),
      plug.timeoutSeconds * 1000,
    );
    request.once('socket', (socket) => socket.once('connect', () => (phase = 'waiting')));
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES)
          settle({
            error: unexpectedAnswer(plug, requestName(target), `more than ${MAX_ANSWER_BYTES} bytes`),
          });
        else chunks.push(chunk);
      });
      response.once('end', () =>
        settle({
          answer: {
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          },
        }),
      );
      response.once('error', (error: NetworkErrorLike) =>
        settle({ error: exchangeFailed(plug, error, 'waiting') }),
      );
    });
    request.once('error', (error: NetworkErrorLike) => settle({ error: exchangeFailed(plug, error, phase) }));
    request.end();
  });
}

/** `/rpc/Switch.Set?id=0&on=false` → `/rpc/Switch.Set`; passwords in a query never reach a message. */
export function requestName(target: string): string {
  return target.split('?')[0] ?? target;
}

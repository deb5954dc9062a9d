import { UserError } from '../errors.ts';
import { plugAddress, type ResolvedPlug } from './resolved-plug.ts';

export type PlugProblem =
  'unreachable' | 'credentials' | 'no-local-protocol' | 'unexpected-answer' | 'invalid-input';

/** A plug could not be asked or did not do what it was asked; the one-line message names the plug, its address and the fix. */
export class PlugError extends UserError {
  constructor(
    readonly plug: string,
    readonly problem: PlugProblem,
    message: string,
  ) {
    super(message);
  }
}

/** What node:net and node:http put on their errors. */
export interface NetworkErrorLike {
  readonly code?: string;
  readonly message: string;
}

/** Where an exchange was when it failed: before the connection stood, or waiting for the answer. */
export type ExchangePhase = 'connecting' | 'waiting';

type PlugIdentity = Pick<ResolvedPlug, 'name' | 'driver' | 'host' | 'port'>;

function describePlug(plug: PlugIdentity): string {
  return `plug "${plug.name}" (${plug.driver} at ${plugAddress(plug)})`;
}

function plugError(plug: PlugIdentity, problem: PlugProblem, message: string): PlugError {
  return new PlugError(plug.name, problem, `${describePlug(plug)} ${message}`);
}

const CHECK_ADDRESS = 'check its address in the lab file';

export function invalidPlugInput(plug: PlugIdentity, what: string): PlugError {
  return plugError(plug, 'invalid-input', `cannot be used: ${what}`);
}

/** No exchange took place: timeout, refusal (not for Kasa, see `kasaWithoutLocalProtocol`), no route, bad name. */
export function exchangeFailed(
  plug: ResolvedPlug,
  cause: NetworkErrorLike | 'timeout',
  phase: ExchangePhase,
): PlugError {
  const seconds = plug.timeoutSeconds;
  if (cause === 'timeout') {
    return phase === 'connecting'
      ? plugError(
          plug,
          'unreachable',
          `is unreachable: no connection within ${seconds} s; is it powered, and this machine on its network? ${CHECK_ADDRESS}`,
        )
      : plugError(
          plug,
          'unreachable',
          `accepted the connection but did not answer within ${seconds} s; is it a ${plug.driver} plug? check the driver and address in the lab file, or unplug and replug it`,
        );
  }
  switch (cause.code) {
    case 'ECONNREFUSED':
      return plugError(
        plug,
        'unreachable',
        `refused the connection; is its web server on, on port ${plug.port}? ${CHECK_ADDRESS}`,
      );
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'EADDRNOTAVAIL':
      return plugError(
        plug,
        'unreachable',
        `is unreachable (${cause.code}); is it powered, and this machine on its network? ${CHECK_ADDRESS}`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return plugError(
        plug,
        'unreachable',
        `is unreachable: the name ${plug.host} does not resolve (${cause.code}); give its IP address in the lab file`,
      );
  }
  return plugError(
    plug,
    'unexpected-answer',
    `closed the connection without an answer (${cause.code ?? oneLine(cause.message)}); is it a ${plug.driver} plug? check the driver and address in the lab file`,
  );
}

export function kasaWithoutLocalProtocol(plug: ResolvedPlug, what: string): PlugError {
  return plugError(
    plug,
    'no-local-protocol',
    `${what}: newer Kasa firmware speaks the local protocol on port 9999 only with "third-party compatibility" on; turn it on in the Kasa app and try again (or ${CHECK_ADDRESS})`,
  );
}

export function passwordMissing(plug: ResolvedPlug): PlugError {
  return plugError(
    plug,
    'credentials',
    `asks for a password (HTTP 401); give the plug's password in the lab file`,
  );
}

export function passwordRefused(plug: ResolvedPlug, user: string): PlugError {
  return plugError(
    plug,
    'credentials',
    `refused the password of user "${user}" (HTTP 401); check the plug's password in the lab file`,
  );
}

/**
 * The plug answered, but not as its driver expects. `advice` replaces the default (is it really
 * such a plug?) when the answer says more.
 */
export function unexpectedAnswer(
  plug: ResolvedPlug,
  request: string,
  answer: string,
  advice = `is it a ${plug.driver} plug? check the driver in the lab file`,
): PlugError {
  return plugError(
    plug,
    'unexpected-answer',
    `gave an unexpected answer to ${request}: ${oneLine(answer)}; ${advice}`,
  );
}

const MAX_QUOTED = 160;

/** Device output quoted in a message: one line, bounded. */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_QUOTED ? `${flat.slice(0, MAX_QUOTED)}…` : flat || '(nothing)';
}

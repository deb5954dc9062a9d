import { createHash } from 'node:crypto';

/*
 * HTTP digest authentication (RFC 7616), the SHA-256 / qop=auth variant that Shelly Gen2+ plugs
 * ask for. Pure: the caller supplies the client nonce.
 */

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  /** As the server wrote it: `auth`, `auth,auth-int`, or empty when it named none. */
  readonly qop: string;
  /** `MD5` when the server named none (RFC 7616 §3.3). */
  readonly algorithm: string;
  readonly opaque?: string;
}

/** Reads a `WWW-Authenticate: Digest …` header; undefined for any other scheme or a header without realm and nonce. */
export function parseDigestChallenge(header: string): DigestChallenge | undefined {
  const scheme = /^\s*Digest\s+/i.exec(header);
  if (!scheme) return undefined;
  const params = new Map<string, string>();
  for (const match of header
    .slice(scheme[0].length)
    .matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    const [, key = '', quoted, token] = match;
    params.set(key.toLowerCase(), quoted === undefined ? (token ?? '') : quoted.replace(/\\(.)/g, '$1'));
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const opaque = params.get('opaque');
  return {
    realm,
    nonce,
    qop: params.get('qop') ?? '',
    algorithm: params.get('algorithm') ?? 'MD5',
    ...(opaque === undefined ? {} : { opaque }),
  };
}

/** Whether `digestAuthorization` can answer this challenge. */
export function canAnswerDigest(challenge: DigestChallenge): boolean {
  return (
    challenge.algorithm.toUpperCase() === 'SHA-256' &&
    challenge.qop.split(',').some((qop) => qop.trim().toLowerCase() === 'auth')
  );
}

export interface DigestRequest {
  readonly challenge: DigestChallenge;
  readonly user: string;
  readonly password: string;
  readonly method: string;
  /** The request target exactly as sent: path and query. */
  readonly uri: string;
  readonly cnonce: string;
  /** How many requests used this nonce, this one included. */
  readonly nonceCount: number;
}

export function digestResponse(request: DigestRequest): string {
  const { challenge, user, password, method, uri, cnonce } = request;
  const ha1 = sha256(`${user}:${challenge.realm}:${password}`);
  const ha2 = sha256(`${method}:${uri}`);
  return sha256(`${ha1}:${challenge.nonce}:${nonceCountText(request)}:${cnonce}:auth:${ha2}`);
}

/** The `Authorization` header value for a challenge that `canAnswerDigest`. */
export function digestAuthorization(request: DigestRequest): string {
  const { challenge } = request;
  const fields = [
    `username=${quote(request.user)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(request.uri)}`,
    'algorithm=SHA-256',
    `response=${quote(digestResponse(request))}`,
    'qop=auth',
    `nc=${nonceCountText(request)}`,
    `cnonce=${quote(request.cnonce)}`,
    ...(challenge.opaque === undefined ? [] : [`opaque=${quote(challenge.opaque)}`]),
  ];
  return `Digest ${fields.join(', ')}`;
}

function nonceCountText(request: DigestRequest): string {
  return request.nonceCount.toString(16).padStart(8, '0');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

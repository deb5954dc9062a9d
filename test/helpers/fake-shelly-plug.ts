import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { type FakePlugBehaviour, FakeRelay, listenOnLoopback } from './fake-plug-server.ts';

/*
 * A fake Shelly Gen2+ plug (Plus Plug S-like): RPC over HTTP GET for switch 0, Switch.GetStatus and
 * Switch.Set with toggle_after, which really flips the relay back on a timer. With a password,
 * every /rpc request needs SHA-256 digest auth (user admin, a fresh nonce per 401), checked by its
 * own code, not the driver's.
 */

export interface FakeShellyPlugOptions {
  readonly on?: boolean;
  readonly password?: string;
  readonly behaviour?: FakePlugBehaviour;
}

export interface FakeShellyPlug {
  readonly port: number;
  readonly relay: FakeRelay;
  /** Request targets received (`/rpc/Switch.Set?id=0&on=false`), oldest first, 401s included. */
  readonly requests: readonly string[];
  stop(): Promise<void>;
}

const REALM = 'shellyplusplugs-e86beae00001';

export async function startFakeShellyPlug(options: FakeShellyPlugOptions = {}): Promise<FakeShellyPlug> {
  const relay = new FakeRelay(options.on ?? false);
  const requests: string[] = [];
  const nonces = new Set<string>();
  let flipBack: { timer: NodeJS.Timeout; startedAt: number; duration: number } | undefined;

  const reply = (response: http.ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const authorized = (request: http.IncomingMessage): boolean => {
    if (options.password === undefined) return true;
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Digest ')) return false;
    const field = (name: string): string | undefined => {
      const match = new RegExp(`\\b${name}=(?:"([^"]*)"|([^,\\s]+))`).exec(header) ?? [];
      return match[1] ?? match[2];
    };
    const nonce = field('nonce') ?? '';
    if (!nonces.delete(nonce)) return false;
    if (field('username') !== 'admin' || field('realm') !== REALM || field('uri') !== request.url)
      return false;
    if (field('algorithm') !== 'SHA-256' || field('qop') !== 'auth') return false;
    const ha1 = sha256(`admin:${REALM}:${options.password}`);
    const ha2 = sha256(`${request.method ?? ''}:${request.url ?? ''}`);
    const expected = sha256([ha1, nonce, field('nc'), field('cnonce'), 'auth', ha2].join(':'));
    return field('response') === expected;
  };

  const rpc: Record<string, (params: URLSearchParams) => [number, unknown]> = {
    'Switch.GetStatus': () => [
      200,
      {
        id: 0,
        source: 'http',
        output: relay.on,
        ...(flipBack ? { timer_started_at: flipBack.startedAt, timer_duration: flipBack.duration } : {}),
        apower: 0,
        voltage: 231.4,
        current: 0,
        temperature: { tC: 38.2, tF: 100.8 },
      },
    ],
    'Switch.Set': (params) => {
      const on = params.get('on');
      if (on !== 'true' && on !== 'false')
        return [400, { code: -103, message: "Missing required argument 'on'!" }];
      const toggleAfter = params.has('toggle_after') ? Number(params.get('toggle_after')) : undefined;
      if (toggleAfter !== undefined && !(toggleAfter > 0))
        return [400, { code: -103, message: "Invalid argument 'toggle_after'!" }];
      const wasOn = relay.on;
      if (flipBack) clearTimeout(flipBack.timer);
      flipBack = undefined;
      relay.set(on === 'true', 'request');
      if (toggleAfter !== undefined) {
        const timer = setTimeout(() => {
          flipBack = undefined;
          relay.set(!relay.on, 'timer');
        }, toggleAfter * 1000);
        flipBack = { timer, startedAt: Date.now() / 1000, duration: toggleAfter };
      }
      return [200, { was_on: wasOn }];
    },
  };

  const handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    requests.push(request.url ?? '');
    const url = new URL(request.url ?? '/', 'http://plug');
    const method = /^\/rpc\/([\w.]+)$/.exec(url.pathname)?.[1];
    const handler = method === undefined ? undefined : rpc[method];
    if (method === undefined || handler === undefined)
      return reply(response, 404, { code: 404, message: `No handler for ${method ?? url.pathname}` });
    if (!authorized(request)) {
      const nonce = randomBytes(4).toString('hex');
      nonces.add(nonce);
      response.setHeader(
        'www-authenticate',
        `Digest qop="auth", realm="${REALM}", nonce="${nonce}", algorithm=SHA-256`,
      );
      return reply(response, 401, { code: 401, message: 'unauthorized' });
    }
    if (url.searchParams.get('id') !== '0')
      return reply(response, 400, {
        code: -105,
        message: `Argument 'id', value ${url.searchParams.get('id')} not found!`,
      });
    const [status, body] = handler(url.searchParams);
    reply(response, status, body);
  };

  const listener = await listenOnLoopback(options.behaviour ?? 'answers', () => http.createServer(handle));
  return {
    port: listener.port,
    relay,
    requests,
    async stop() {
      if (flipBack) clearTimeout(flipBack.timer);
      await listener.close();
    },
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

import http from 'node:http';
import { type FakePlugBehaviour, FakeRelay, listenOnLoopback } from './fake-plug-server.ts';

/*
 * A fake Tasmota plug: GET /cm?cmnd=… with `user`/`password` in the query when the web admin has a
 * password (a wrong one answers 200 with the firmware's WARNING, as HandleHttpCommand does).
 * Commands: Power [On|Off|Toggle|1|0|2] and Backlog, whose commands run one after the other after
 * the answer, Delay counting tenths of a second on a real timer.
 */

export interface FakeTasmotaPlugOptions {
  readonly on?: boolean;
  readonly password?: string;
  readonly behaviour?: FakePlugBehaviour;
}

export interface FakeTasmotaPlug {
  readonly port: number;
  readonly relay: FakeRelay;
  /** Commands received (`cmnd`), oldest first. */
  readonly commands: readonly string[];
  stop(): Promise<void>;
}

export async function startFakeTasmotaPlug(options: FakeTasmotaPlugOptions = {}): Promise<FakeTasmotaPlug> {
  const relay = new FakeRelay(options.on ?? false);
  const commands: string[] = [];
  const timers = new Set<NodeJS.Timeout>();

  /** Runs one command now; `by` tells a Backlog's later commands from a request's. */
  const run = (command: string, by: 'request' | 'timer'): Record<string, string> | undefined => {
    const [name = '', value = ''] = command.trim().split(/\s+/, 2);
    if (name.toLowerCase() !== 'power') return undefined;
    const wanted = {
      '': relay.on,
      on: true,
      '1': true,
      off: false,
      '0': false,
      toggle: !relay.on,
      '2': !relay.on,
    }[value.toLowerCase()];
    if (wanted === undefined) return undefined;
    if (value !== '') relay.set(wanted, by);
    return { POWER: relay.on ? 'ON' : 'OFF' };
  };

  /** Steps after a Delay are the plug's own doing (`timer`). */
  const backlog = (steps: string[], by: 'request' | 'timer'): void => {
    const [step, ...rest] = steps;
    if (step === undefined) return;
    const delay = /^\s*delay\s+(\d+)\s*$/i.exec(step);
    if (!delay) {
      run(step, by);
      backlog(rest, by);
      return;
    }
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        backlog(rest, 'timer');
      },
      Number(delay[1]) * 100,
    );
    timers.add(timer);
  };

  const handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://plug');
    const reply = (body: unknown): void => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname !== '/cm') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('File Not Found');
      return;
    }
    const login =
      url.searchParams.get('user') === 'admin' && url.searchParams.get('password') === options.password;
    if (options.password !== undefined && !login)
      return reply({ WARNING: 'Need user=<username>&password=<password>' });
    const command = url.searchParams.get('cmnd') ?? '';
    commands.push(command);
    const backlogged = /^\s*backlog\s+(.*)$/i.exec(command);
    if (backlogged) {
      // The first step runs after the answer, like the firmware's backlog queue.
      setImmediate(() => backlog((backlogged[1] ?? '').split(';'), 'request'));
      return reply({});
    }
    reply(run(command, 'request') ?? { Command: 'Unknown' });
  };

  const listener = await listenOnLoopback(options.behaviour ?? 'answers', () => http.createServer(handle));
  return {
    port: listener.port,
    relay,
    commands,
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      await listener.close();
    },
  };
}

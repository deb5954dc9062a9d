import net from 'node:net';

/*
 * What the fake smart plugs (fake-kasa-plug.ts, fake-shelly-plug.ts, fake-tasmota-plug.ts) share:
 * a loopback listener that answers, refuses, hangs or hangs up, and the log of the relay's
 * switches. Doubles for a plug on the lab network, which is physically not here; they listen on
 * 127.0.0.1 only, on a port the kernel picks.
 */

export type FakePlugBehaviour =
  /** Speaks the plug's protocol. */
  | 'answers'
  /** Nothing listens on the port (connection refused). */
  | 'refuses'
  /** Accepts connections and never says a word. */
  | 'hangs'
  /** Accepts and closes at once, as a Kasa plug whose firmware speaks only KLAP may do on port 9999. */
  | 'closes-at-once';

export interface LoopbackListener {
  readonly port: number;
  close(): Promise<void>;
}

/** `answering` is the fake's own server, used when the behaviour is `answers`. */
export async function listenOnLoopback(
  behaviour: FakePlugBehaviour,
  answering: () => net.Server,
): Promise<LoopbackListener> {
  const sockets = new Set<net.Socket>();
  const server =
    behaviour === 'answers'
      ? answering()
      : net.createServer((socket) => {
          if (behaviour === 'closes-at-once') socket.destroy();
        });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  if (behaviour === 'refuses') await close();
  return { port: address.port, close };
}

export interface RelaySwitch {
  readonly on: boolean;
  /** `request`: a command over the network; `timer`: the plug's own timer (count_down, toggle_after, Backlog Delay). */
  readonly by: 'request' | 'timer';
  /** performance.now() when the relay switched. */
  readonly at: number;
}

/** The relay of a fake plug: its state and every switch, with waiting for one. */
export class FakeRelay {
  private readonly log: RelaySwitch[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private state: boolean) {}

  get on(): boolean {
    return this.state;
  }

  get switches(): readonly RelaySwitch[] {
    return this.log;
  }

  set(on: boolean, by: RelaySwitch['by']): void {
    this.state = on;
    this.log.push({ on, by, at: performance.now() });
    for (const wake of this.waiters) wake();
  }

  /** The first switch (already logged or still to come) that `matches`. */
  async waitForSwitch(matches: (change: RelaySwitch) => boolean, timeoutMs: number): Promise<RelaySwitch> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.log.find(matches);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no matching relay switch within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}

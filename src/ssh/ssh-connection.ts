import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import type { SshEndpoint } from './ssh-endpoint.ts';

/** Grace for the server to answer our disconnect before the socket is destroyed under it. */
const CLOSE_GRACE_MS = 2_000;

/** One logged-in ssh2 Client and the socket (TCP, or a channel through a jump host) it runs on. */
export class SshConnection {
  readonly closed: Promise<void>;
  private isClosedFlag = false;
  private firstError: Error | undefined;
  /** One 'close' listener on the client fans out to these (many commands may be running at once). */
  private readonly closeListeners = new Set<() => void>();

  constructor(
    readonly client: Client,
    private readonly socket: Duplex,
    readonly endpoint: SshEndpoint,
  ) {
    // After login, errors (keepalive timeout, ECONNRESET) arrive as 'error' events: without a
    // listener node would crash the process. They are kept to explain the loss; 'close' follows.
    client.on('error', (error: Error) => {
      this.firstError ??= error;
    });
    this.closed = new Promise((resolve) => {
      client.once('close', () => {
        this.isClosedFlag = true;
        resolve();
        for (const listener of [...this.closeListeners]) listener();
        this.closeListeners.clear();
      });
    });
  }

  get isClosed(): boolean {
    return this.isClosedFlag;
  }

  /** Calls `listener` once when the connection closes; returns the unsubscribe function. */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Why the connection went away, when it was not closed by us. */
  get lostReason(): Error | undefined {
    return this.firstError;
  }

  /** Idempotent; never waits for more than a few seconds, even on a dead network. */
  async close(): Promise<void> {
    if (this.isClosedFlag) return;
    this.client.end();
    if (await settlesWithin(this.closed, CLOSE_GRACE_MS)) return;
    // After end() ssh2's own destroy() is a no-op (the socket is no longer writable).
    this.socket.destroy();
    await settlesWithin(this.closed, CLOSE_GRACE_MS);
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

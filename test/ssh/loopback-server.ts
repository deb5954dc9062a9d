import path from 'node:path';
import type { SshEndpoint, SshSettings } from '../../src/ssh/ssh-endpoint.ts';
import {
  type ClientKey,
  knownHostsFor,
  makeClientKey,
  type SshdServer,
  startSshd,
  type SshdOptions,
} from '../helpers/sshd.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';

/** One real sshd on loopback, a client key it accepts and a known_hosts file that knows it. */
export interface LoopbackServer {
  readonly server: SshdServer;
  readonly key: ClientKey;
  readonly temp: TempDir;
  readonly knownHostsFile: string;
  readonly endpoint: SshEndpoint;
  /** Explicit files only, no agent: nothing from the machine's own ~/.ssh or SSH_AUTH_SOCK leaks in. */
  readonly settings: SshSettings;
  release(): Promise<void>;
}

export async function startLoopbackServer(options: Partial<SshdOptions> = {}): Promise<LoopbackServer> {
  const temp = await makeTempDir();
  try {
    const key = await makeClientKey(temp.path);
    const server = await startSshd({ authorizedKeys: key.publicKey, ...options });
    const knownHostsFile = await knownHostsFor(path.join(temp.path, 'known_hosts'), server);
    return {
      server,
      key,
      temp,
      knownHostsFile,
      endpoint: { host: server.host, port: server.port, user: 'root' },
      settings: {
        identityFiles: [key.privateKeyFile],
        knownHostsFile,
        useAgent: false,
        connectTimeoutSeconds: 60,
      },
      release: async () => {
        await server.stop();
        await temp.remove();
      },
    };
  } catch (error) {
    await temp.remove();
    throw error;
  }
}

/** Fails instead of hanging: rejects when `promise` has not settled after `seconds`. */
export async function within<T>(seconds: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it holds (for what another process does in its own time, like writing a log). */
export async function eventually(seconds: number, check: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

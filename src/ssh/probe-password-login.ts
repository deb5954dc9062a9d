import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';

export interface PasswordLoginProbe {
  /** The methods the server offers after "none" (RFC 4252 §5.2). */
  readonly methodsOffered: readonly string[];
  /** Whether a login with the password (or keyboard-interactive answering it) was let in. */
  readonly accepted: boolean;
}

/**
 * Tries to log in with a password the way a brute-force attempt would, and lists what the server
 * offers. Host keys are not checked: nothing is sent but a password that must be refused.
 */
export function probePasswordLogin(
  sock: Duplex,
  username: string,
  password: string,
  timeoutSeconds = 30,
): Promise<PasswordLoginProbe> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let methodsOffered: string[] = [];
    let settled = false;
    const finish = (error: Error | undefined, accepted: boolean): void => {
      if (settled) return;
      settled = true;
      client.end();
      if (error) reject(error);
      else resolve({ methodsOffered, accepted });
    };
    const tried = new Set<string>();
    client.on('ready', () => finish(undefined, true));
    client.on('error', (error: Error & { level?: string }) => {
      if (error.level === 'client-authentication') finish(undefined, false);
      else finish(error, false);
    });
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, answer) => {
      answer(prompts.map(() => password));
    });
    client.connect({
      sock,
      username,
      readyTimeout: timeoutSeconds * 1000,
      hostVerifier: () => true,
      authHandler: (methodsLeft, _partial, next) => {
        // null on the first call, before the server has said anything (the typings omit it).
        const offered = methodsLeft as string[] | null;
        if (offered) methodsOffered = [...offered];
        if (!tried.has('none')) {
          tried.add('none');
          return next({ type: 'none', username });
        }
        for (const method of ['password', 'keyboard-interactive'] as const) {
          if (tried.has(method) || !methodsOffered.includes(method)) continue;
          tried.add(method);
          return next(
            method === 'password'
              ? { type: 'password', username, password }
              : {
                  type: 'keyboard-interactive',
                  username,
                  prompt: (_n, _i, _l, prompts, answer) => answer(prompts.map(() => password)),
                },
          );
        }
        return next(false as unknown as Parameters<typeof next>[0]);
      },
    });
  });
}
